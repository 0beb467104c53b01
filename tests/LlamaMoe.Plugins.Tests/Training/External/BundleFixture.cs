using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Plugins.Tests.Export;
using LlamaMoe.Plugins.Training;
using LlamaMoe.Plugins.Training.External;
using LlamaMoe.Testing;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// A train stage over a stories260K MoE with an external executor, run in a conformance sandbox: writes the bundle and
/// returns the step's coded stop (LMOE3400 for bundle-only) or result. The Python package copied into bundles is a
/// two-file fixture (LLAMAMOE_PYTHON_PACKAGE), so goldens do not change with python/llamamoe_hf.
/// </summary>
internal sealed class BundleFixture : IDisposable
{
    private static readonly Regex Sha256 = new("(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", RegexOptions.Compiled);
    private static readonly Regex Key12 = new("(?<![0-9a-f])(?=[0-9]*[a-f])[0-9a-f]{12}(?![0-9a-f])", RegexOptions.Compiled);
    private readonly string? previousPackage;

    public BundleFixture(bool residual)
    {
        Sandbox = new ConformanceSandbox("train", typeof(TrainStep).Assembly);
        Sandbox.AddInput("moe", ArtifactKinds.MoeModel, directory => ExportFixtures.WriteStoriesMoe(Path.Combine(Sandbox.Root, "dense-source"), directory, residual));
        var package = Path.Combine(Sandbox.Root, "py-fixture", "llamamoe_hf");
        Directory.CreateDirectory(package);
        File.WriteAllText(Path.Combine(package, "__init__.py"), "\"\"\"llamamoe_hf test fixture.\"\"\"\n");
        File.WriteAllText(Path.Combine(package, "train.py"), "\"\"\"Entry point fixture: the real one is python/llamamoe_hf/train.py.\"\"\"\n");
        previousPackage = Environment.GetEnvironmentVariable(PythonPackageLocator.EnvironmentVariable);
        Environment.SetEnvironmentVariable(PythonPackageLocator.EnvironmentVariable, package);
    }

    public ConformanceSandbox Sandbox { get; }

    public string Bundles => Path.Combine(Sandbox.Root, "bundles");

    public string Output => Path.Combine(Sandbox.Root, "output");

    /// <summary>The stage's options with <paramref name="executor"/> (a YAML flow mapping body) and the sandbox's storage.</summary>
    public string Options(string executor, string extra = "") =>
        $"{{ sources: [ {{ path: {Quote(SharedData.TinyStoriesValid)}, first: 1, count: 24 }} ], seq-len: 48, batch-size: 4, grad-accum: 2, max-steps: 3, checkpoint-every: 2{extra}, " +
        $"executor: {{ {executor}, storage: {{ bundle-uri: {Quote(Bundles)}, output-uri: {Quote(Output)} }} }} }}";

    /// <summary>Runs the step; returns the coded error it stopped with, or null when it published.</summary>
    public async Task<LlamaMoeException?> RunAsync(string options)
    {
        try
        {
            await Sandbox.RunAsync(options, seed: 5, CancellationToken.None);
            return null;
        }
        catch (LlamaMoeException error)
        {
            return error;
        }
    }

    /// <summary>The single bundle folder.</summary>
    public string Bundle => Directory.GetDirectories(Bundles, "bundle-*").Single();

    /// <summary>A generated text with this machine's paths, digests and keys replaced by placeholders.</summary>
    public string Normalise(string text) =>
        Key12.Replace(Sha256.Replace(text.Replace(Sandbox.Root, "<root>", StringComparison.Ordinal), "<sha256>"), "<key12>");

    /// <summary>Compares the normalised <paramref name="relative"/> files of the bundle with the goldens of <paramref name="golden"/> (LLAMAMOE_UPDATE_GOLDENS=1 rewrites them).</summary>
    public void AssertGoldens(string golden, IEnumerable<string> relative)
    {
        var directory = Path.Combine(TestDataDirectory(), "JobBundle", golden);
        var update = Environment.GetEnvironmentVariable("LLAMAMOE_UPDATE_GOLDENS") == "1";
        var differences = new List<string>();
        foreach (var file in relative)
        {
            var actual = Normalise(File.ReadAllText(Path.Combine(Bundle, file)));
            var path = Path.Combine(directory, file);
            if (update)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, actual);
                continue;
            }

            if (!File.Exists(path))
            {
                differences.Add($"{file}: no golden (run with LLAMAMOE_UPDATE_GOLDENS=1)");
            }
            else if (File.ReadAllText(path) != actual)
            {
                differences.Add($"{file} differs from {path}:\n{actual}");
            }
        }

        Assert.That(differences, Is.Empty);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(PythonPackageLocator.EnvironmentVariable, previousPackage);
        MakeWritable(Sandbox.Root);
        Sandbox.Dispose();
    }

    private static void MakeWritable(string root)
    {
        if (!Directory.Exists(root) || OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.UserWrite);
        }
    }

    private static string TestDataDirectory([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "TestData"));
}
