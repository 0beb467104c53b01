using System.Reflection;
using LlamaMoe.Pipeline.Store;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Conformance;

/// <summary>
/// The plugin conformance kit. Derive an NUnit fixture, name the step and its assembly, give valid options, bad
/// options with their expected codes, and the input artifacts the step needs:
/// <code>
/// public sealed class MyStepConformance : StepConformanceTests
/// {
///     protected override string PluginName => "split-mlp/magnitude";
///     protected override Assembly PluginAssembly => typeof(MagnitudeSplitStep).Assembly;
///     protected override string ValidOptions => "{ experts: 4 }";
///     protected override IEnumerable&lt;BadOptionsCase&gt; BadOptions => [new("{ experts: 0 }", "LMOE0053")];
///     protected override void CreateInputs(ConformanceSandbox sandbox) => sandbox.AddInput("dense", ArtifactKinds.DenseModel, dir => ...);
/// }
/// </code>
/// </summary>
public abstract class StepConformanceTests
{
    /// <summary>The step's YAML name.</summary>
    protected abstract string PluginName { get; }

    /// <summary>The assembly that exports the step.</summary>
    protected abstract Assembly PluginAssembly { get; }

    /// <summary>Valid options as a YAML flow mapping (<c>{ key: value }</c>).</summary>
    protected abstract string ValidOptions { get; }

    /// <summary>Options that must be rejected, each with its expected code.</summary>
    protected abstract IEnumerable<BadOptionsCase> BadOptions { get; }

    /// <summary>Creates the step's input artifacts in the sandbox (default: none).</summary>
    protected virtual void CreateInputs(ConformanceSandbox sandbox)
    {
    }

    /// <summary>The valid options pass validation.</summary>
    [Test]
    public void AcceptsItsValidOptions()
    {
        using var sandbox = CreateSandbox();
        var result = sandbox.Load(ValidOptions);
        Assert.That(result.Diagnostics.Select(d => d.ToString()), Is.Empty);
    }

    /// <summary>Each bad option set yields its coded diagnostic, located on the stage's options line.</summary>
    [Test]
    public void RejectsBadOptionsWithCodedLocatedDiagnostics()
    {
        var cases = BadOptions.ToList();
        Assert.That(cases, Is.Not.Empty, "give at least one bad options case");
        using var sandbox = CreateSandbox();
        foreach (var bad in cases)
        {
            var result = sandbox.Load(bad.Options);
            Assert.That(result.Pipeline, Is.Null, $"{bad} was accepted");
            var match = result.Diagnostics.FirstOrDefault(d => d.Code == bad.ExpectedCode);
            Assert.That(match, Is.Not.Null, $"{bad}: got {string.Join("; ", result.Diagnostics)}");
            Assert.That(match!.Line, Is.EqualTo(6), $"{bad}: the diagnostic points at the options line");
            Assert.That(match.Column, Is.GreaterThan(0));
        }
    }

    /// <summary>Two runs with one seed give the same artifact digest.</summary>
    [Test]
    public async Task IsDeterministicUnderASeed()
    {
        using var sandbox = CreateSandbox();
        var first = await sandbox.RunAsync(ValidOptions, seed: 11, CancellationToken.None);
        var second = await sandbox.RunAsync(ValidOptions, seed: 11, CancellationToken.None);
        Assert.That(second.Manifest.Digest, Is.EqualTo(first.Manifest.Digest));
        Assert.That(first.Manifest.Files, Is.Not.Empty, "the step writes something");
    }

    /// <summary>The input artifacts' content is unchanged by a run.</summary>
    [Test]
    public async Task DoesNotMutateItsInputs()
    {
        using var sandbox = CreateSandbox();
        var before = sandbox.Inputs.ToDictionary(i => i.StageId, i => new FileDigests(null).OfPath(i.Directory));
        await sandbox.RunAsync(ValidOptions, seed: 3, CancellationToken.None);
        var after = sandbox.Inputs.ToDictionary(i => i.StageId, i => new FileDigests(null).OfPath(i.Directory));
        Assert.That(after, Is.EqualTo(before));
    }

    /// <summary>Nothing outside the output and resume folders is created or changed, even relative to the current directory.</summary>
    [Test]
    public async Task WritesOnlyInsideItsOutputFolder()
    {
        using var sandbox = CreateSandbox();
        var workingDirectory = Path.Combine(sandbox.Root, "cwd");
        Directory.CreateDirectory(workingDirectory);
        sandbox.Load(ValidOptions, seed: 5);
        var before = sandbox.SnapshotOutsideRuns();
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = workingDirectory;
        try
        {
            await sandbox.RunAsync(ValidOptions, seed: 5, CancellationToken.None);
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }

        Assert.That(sandbox.SnapshotOutsideRuns(), Is.EquivalentTo(before));
    }

    /// <summary>A cancelled run throws <see cref="OperationCanceledException"/> and leaves no output folder.</summary>
    [Test]
    public void HonoursCancellation()
    {
        using var sandbox = CreateSandbox();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        Assert.That(async () => await sandbox.RunAsync(ValidOptions, seed: 1, cancellation.Token, checkCancellationAfterRun: false), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(Directory.Exists(Path.Combine(sandbox.Root, "runs", "out-1")), Is.False, "a cancelled stage's output is removed");
    }

    private protected ConformanceSandbox CreateSandbox()
    {
        var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        CreateInputs(sandbox);
        return sandbox;
    }
}
