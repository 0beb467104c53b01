using System.Reflection;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Pipeline.Store;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaMoe.Pipeline.Conformance;

/// <summary>
/// A temporary folder holding a one-stage pipeline for the step under test, its input artifacts and its outputs;
/// runs the step through the engine's own binding and execution code.
/// </summary>
public sealed class ConformanceSandbox : IDisposable
{
    private readonly string pluginName;
    private readonly Assembly pluginAssembly;
    private readonly List<ArtifactHandle> inputs = [];
    private int runs;

    /// <summary>Creates the sandbox folder.</summary>
    public ConformanceSandbox(string pluginName, Assembly pluginAssembly)
    {
        this.pluginName = pluginName;
        this.pluginAssembly = pluginAssembly;
        Root = Path.Combine(Path.GetTempPath(), $"llamamoe-conformance-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    /// <summary>The sandbox folder.</summary>
    public string Root { get; }

    /// <summary>The input artifacts added so far.</summary>
    public IReadOnlyList<ArtifactHandle> Inputs => inputs;

    /// <summary>Adds an input artifact: <paramref name="write"/> fills its folder, which is then sealed with a manifest.</summary>
    public ArtifactHandle AddInput(string stageId, string kind, Action<string> write)
    {
        var directory = Path.Combine(Root, "inputs", stageId);
        Directory.CreateDirectory(directory);
        write(directory);
        var manifest = ArtifactSealer.Seal(directory, kind, new ArtifactProducer("conformance/input", "1"), [], new FileDigests(null));
        var handle = manifest.ToHandle(stageId, directory);
        inputs.Add(handle);
        return handle;
    }

    /// <summary>Validates the step's options (a YAML flow mapping); returns every diagnostic.</summary>
    public PipelineLoadResult Load(string options, int seed = 0)
    {
        var path = Path.Combine(Root, "pipeline.yaml");
        var text = $"name: conformance\nseed: {seed}\nstages:\n  step:\n    uses: {pluginName}\n    with: {options}\n";
        if (!File.Exists(path) || File.ReadAllText(path) != text)
        {
            File.WriteAllText(path, text);
        }

        return PipelineLoader.Load(path, new PipelineLoadSettings(), [pluginAssembly]);
    }

    /// <summary>Runs the step once into a fresh output folder; returns the sealed manifest and the folder. With <paramref name="checkCancellationAfterRun"/> false only the step itself can raise cancellation.</summary>
    public async Task<(ArtifactManifest Manifest, string OutputDirectory)> RunAsync(string options, int seed, CancellationToken cancellationToken, bool checkCancellationAfterRun = true)
    {
        // Write the pipeline file before the caller's snapshot would see it change.
        var pipeline = Load(options, seed).EnsureValid();
        var stage = pipeline.Stage("step");
        var diagnostics = new List<Diagnostic>();
        var (bound, binder) = StageBinding.Bind(pipeline.Definition, stage, Environment.GetEnvironmentVariable, (_, _) => null, diagnostics);
        if (bound is null)
        {
            throw new PipelineDiagnosticsException(diagnostics);
        }

        var run = ++runs;
        var output = Path.Combine(Root, "runs", $"out-{run}");
        var resume = Path.Combine(Root, "runs", $"resume-{run}");
        Directory.CreateDirectory(output);
        Directory.CreateDirectory(resume);
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new NullRunObserver()).BuildServiceProvider();
        var manifest = await StageExecutor.ExecuteAsync(stage, new StepContextSettings
        {
            PipelineName = pipeline.Definition.Name,
            PipelineDirectory = Root,
            Options = bound,
            Inputs = inputs,
            OutputDirectory = output,
            ResumeDirectory = resume,
            Seed = seed,
            Device = "cpu",
            Services = services,
            OptionLocations = binder.Locations,
        }, new NullRunObserver(), cancellationToken, checkCancellationAfterRun);
        return (manifest, output);
    }

    /// <summary>Every file under the sandbox except the runs folder, with size and write time.</summary>
    public IReadOnlyDictionary<string, (long Size, DateTime Written)> SnapshotOutsideRuns() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(Root, f).StartsWith("runs", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(Root, f), f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f)));

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Leave it to the temp cleaner.
        }
    }
}
