using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>
/// Issue 15, "<c>--store</c> read-only or a regular file": every command that opens the artifact store (run, plan, gc,
/// clean) ends with a coded error naming the path, and <c>clean</c> never deletes a file or folder that is not a store.
/// </summary>
public sealed class StoreCommandsHardeningTests
{
    private const string Pipeline = "name: p\nstages:\n  data:\n    uses: data/synthetic\n    with: { people: 2, train-examples: 4, eval-examples: 2 }\n";

    [TestCase("run")]
    [TestCase("plan")]
    [TestCase("gc")]
    public void AStoreThatIsARegularFileIsLMOE0907(string command)
    {
        using var dir = new TempDirectory("cli-store");
        var pipeline = dir.Combine("p.yaml");
        File.WriteAllText(pipeline, Pipeline);
        var file = dir.Combine("a-file");
        File.WriteAllText(file, "keep me");
        var run = CliProcess.Run(command, pipeline, "--store", file);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
        Assert.That(run.Stderr, Does.Contain("error LMOE0907").And.Contain("a-file"));
        Assert.That(run.Stderr, Does.Not.Contain("LMOE0999").And.Not.Contain("   at "));
        Assert.That(File.ReadAllText(file), Is.EqualTo("keep me"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void CleanRefusesAStorePathThatIsNotAStoreAndDeletesNothing(bool isFile)
    {
        using var dir = new TempDirectory("cli-store");
        var pipeline = dir.Combine("p.yaml");
        File.WriteAllText(pipeline, Pipeline);
        var target = dir.Combine("my-documents");
        if (isFile)
        {
            File.WriteAllText(target, "keep me");
        }
        else
        {
            Directory.CreateDirectory(Path.Combine(target, "objects"));
            File.WriteAllText(Path.Combine(target, "thesis.tex"), "keep me");
        }

        var run = CliProcess.Run("clean", pipeline, "--store", target);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
        Assert.That(run.Stderr, Does.Contain("error LMOE0911").And.Contain("nothing was deleted"));
        Assert.That(isFile ? File.Exists(target) : File.Exists(Path.Combine(target, "thesis.tex")) && Directory.Exists(Path.Combine(target, "objects")), Is.True);
    }

    [Test]
    public void CleanStillDeletesARealStore()
    {
        using var dir = new TempDirectory("cli-store");
        var pipeline = dir.Combine("p.yaml");
        File.WriteAllText(pipeline, Pipeline);
        var store = dir.Combine("store");
        var run = CliProcess.Run("run", pipeline, "--store", store, "--plain");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        var clean = CliProcess.Run("clean", pipeline, "--store", store);
        Assert.That(clean.ExitCode, Is.EqualTo(0), clean.Stderr);
        Assert.That(Directory.Exists(store), Is.False);
    }

    [Test]
    public void ExportToGgufNamingAnExistingDirectoryIsLMOE0912()
    {
        using var dir = new TempDirectory("cli-store");
        var model = dir.Combine("m");
        var import = CliProcess.Run("import", SharedData.Stories260KBin, "--out", model, "--tokenizer", SharedData.Tok512Model);
        Assert.That(import.ExitCode, Is.EqualTo(0), import.Stderr);
        var target = dir.Combine("out-dir");
        Directory.CreateDirectory(target);
        var run = CliProcess.Run("export", model, "--format", "gguf", "--out", target);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
        Assert.That(run.Stderr, Does.Contain("error LMOE0912").And.Not.Contain("LMOE0999"));
    }
}
