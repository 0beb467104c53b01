using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>
/// Every pipeline shipped in <c>pipelines/</c> passes <c>llama-moe validate</c>; a pipeline whose only problems are input
/// paths that do not exist here (a model on another machine) is valid with warnings, and real mistakes still fail.
/// </summary>
public sealed class ShippedPipelinesTests
{
    private static string PipelinesFolder => Path.Combine(RepositoryPaths.Root, "pipelines");

    private static IEnumerable<string> ShippedPipelines() =>
        Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "pipelines"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    [Test]
    public void ThePipelinesFolderShipsTheQuickstartAndBothLlama3Recipes()
    {
        Assert.That(ShippedPipelines(), Is.SupersetOf(new[] { "quickstart.yaml", "quickstart-torchrun.yaml", "stories260k.yaml", "llama3-8b-8x2.yaml", "llama3-8b-residual.yaml" }));
    }

    [TestCaseSource(nameof(ShippedPipelines))]
    public void ShippedPipelineValidates(string file)
    {
        var path = Path.Combine(PipelinesFolder, file);
        if (File.ReadAllText(path).Contains("${env:LLAMAMOE_DATA}", StringComparison.Ordinal))
        {
            _ = SharedData.Root; // skips (or fails in CI) without the shared data
        }

        // A pipeline that loads the sample plugin names its Release build; point it at this test run's configuration.
        var samplePlugin = Path.Combine(RepositoryPaths.Root, "samples", "MagnitudeSplitter", "bin", RepositoryPaths.Configuration, "net10.0");
        var result = File.ReadAllText(path).Contains("${plugin-dir}", StringComparison.Ordinal)
            ? CliProcess.Run("validate", path, "--var", "plugin-dir=" + samplePlugin)
            : CliProcess.Run("validate", path);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.Contain(": valid ("));
        Assert.That(result.Stderr, Does.Not.Contain(": error "));
    }

    [Test]
    public void TheTorchrunQuickstartValidatesWithTheQuickstartsStagesAndItsTrainStagesOnTorchrun()
    {
        var torchrun = CliProcess.Run("validate", Path.Combine(PipelinesFolder, "quickstart-torchrun.yaml"));
        var local = CliProcess.Run("validate", Path.Combine(PipelinesFolder, "quickstart.yaml"));

        Assert.That(torchrun.ExitCode, Is.EqualTo(0), torchrun.Stderr);
        Assert.That(torchrun.Stdout[torchrun.Stdout.IndexOf(": valid", StringComparison.Ordinal)..], Is.EqualTo(local.Stdout[local.Stdout.IndexOf(": valid", StringComparison.Ordinal)..]));
        var text = File.ReadAllText(Path.Combine(PipelinesFolder, "quickstart-torchrun.yaml"));
        Assert.That(text.Split('\n').Count(l => l.Trim() == "executor: { kind: torchrun, nodes: 1, gpus-per-node: 1 }"), Is.EqualTo(3), "dense, stage1 and stage2");
    }

    [Test]
    public void MissingInputPathsAloneAreWarningsInValidate()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("p.yaml"), """
            name: remote-model
            stages:
              dense:
                uses: import
                with: { source: models/not-here }
            """);

        var result = CliProcess.Run("validate", temp.Combine("p.yaml"));

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("p.yaml(5,21): warning LMOE0056: option 'source' names"));
        Assert.That(result.Stdout, Does.Contain("valid (1 stages: dense)"));
    }

    [Test]
    public void MissingInputPathBesideARealMistakeFailsValidateWithBothErrors()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("p.yaml"), """
            name: remote-model
            stages:
              dense:
                uses: import
                with: { source: models/not-here }
              split:
                uses: split-mlp/random
                needs: [dense]
                with: { experts: four }
            """);

        var result = CliProcess.Run("validate", temp.Combine("p.yaml"));

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("error LMOE0056").And.Contain("error LMOE0052"));
    }

    [Test]
    public void ADistillTeacherMissingFromNeedsFailsValidateWithItsCode()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("p.yaml"), """
            name: distill-needs
            stages:
              dense:
                uses: model/init
                with: { text: corpus.txt, vocab-size: 64, dim: 16, layers: 1, heads: 2, kv-heads: 2, hidden-dim: 32, max-seq-len: 32 }
              moe:
                uses: build-moe
                needs: [dense]
                with: { top-k: 2 }
              stage1:
                uses: train
                needs: [moe]
                with: { sources: [{ path: corpus.txt, format: text }], max-steps: 1, distill: { teacher: dense } }
            """);
        File.WriteAllText(temp.Combine("corpus.txt"), "a small corpus\n");

        var result = CliProcess.Run("validate", temp.Combine("p.yaml"));

        Assert.That(result.Stderr, Does.Contain("error LMOE3310: option 'distill.teacher': the teacher stage 'dense' is not in this stage's needs"));
    }

    [Test]
    public void RunStillFailsOnAMissingInputPath()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("p.yaml"), """
            name: remote-model
            stages:
              dense:
                uses: import
                with: { source: models/not-here }
            """);

        var result = CliProcess.Run("run", temp.Combine("p.yaml"), "--plain");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("error LMOE0056"));
    }
}
