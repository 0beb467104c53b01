using System.Text.Json;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class ModelCommandsProcessTests
{
    [Test]
    public void ImportThenGenerateReproducesTheStories260KReferenceOnStdout()
    {
        using var dir = new TempDirectory("cli-import");
        var model = dir.Combine("stories260K");
        var import = CliProcess.Run("import", SharedData.Stories260KBin, "--out", model, "--tokenizer", SharedData.Tok512Model);
        Assert.That(import.ExitCode, Is.EqualTo(0), import.Stderr);
        var generate = CliProcess.Run("generate", model, "--prompt", "Once upon a time", "--max-new-tokens", "40");
        Assert.That(generate.ExitCode, Is.EqualTo(0), generate.Stderr);
        Assert.That(generate.Stdout.TrimEnd('\n'), Is.EqualTo("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball."));
    }

    [Test]
    public void EvalJsonPrintsOneObjectWithTheStoriesFigures()
    {
        using var dir = new TempDirectory("cli-eval");
        var model = dir.Combine("gguf");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KGguf, "--out", model).ExitCode, Is.EqualTo(0));
        var text = File.ReadAllText(SharedData.TinyStoriesValid);
        var firstStories = string.Join("<|endoftext|>\n", text.Split("<|endoftext|>\n").Take(5)) + "<|endoftext|>\n";
        var data = dir.Combine("five.txt");
        File.WriteAllText(data, firstStories);
        var eval = CliProcess.Run("eval", model, "--task", "perplexity", "--data", data, "--format", "stories", "--json");
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Stderr);
        using var json = JsonDocument.Parse(eval.Stdout);
        Assert.That(json.RootElement.GetProperty("sequences").GetInt32(), Is.EqualTo(5));
        Assert.That(json.RootElement.GetProperty("tokens").GetInt64(), Is.GreaterThan(500));
        var nll = json.RootElement.GetProperty("mean_nll").GetDouble();
        Assert.That(nll, Is.InRange(0.8, 2.0));
        Assert.That(json.RootElement.GetProperty("perplexity").GetDouble(), Is.EqualTo(Math.Exp(nll)).Within(1e-9));
    }

    [Test]
    public void EvalGeneratesGsm8kAnswersInBatchesAndRejectsABatchSizeOfZero()
    {
        using var dir = new TempDirectory("cli-eval-gsm8k");
        var model = dir.Combine("m");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KBin, "--out", model, "--tokenizer", SharedData.Tok512Model).ExitCode, Is.EqualTo(0));
        string[] task = ["eval", model, "--task", "gsm8k", "--data", SharedData.File("gsm8k", "test_shared.jsonl"), "--count", "3", "--max-new-tokens", "16", "--device", "cpu"];
        var eval = CliProcess.Run([.. task, "--generation-batch-size", "2", "--json"]);
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Stderr);
        using var json = JsonDocument.Parse(eval.Stdout);
        var score = json.RootElement.GetProperty("scores")[0];
        Assert.That(score.GetProperty("metric").GetString(), Is.EqualTo("exact_match"));
        Assert.That(score.GetProperty("count").GetInt32(), Is.EqualTo(3));
        var zero = CliProcess.Run([.. task, "--generation-batch-size", "0"]);
        Assert.That(zero.ExitCode, Is.EqualTo(2));
        Assert.That(zero.Stderr, Does.Contain("--generation-batch-size"));
    }

    [Test]
    public void ImportingAPickleFailsWithItsCodeOnStderr()
    {
        using var dir = new TempDirectory("cli-pickle");
        var path = dir.Combine("pytorch_model.bin");
        File.WriteAllBytes(path, [0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
        var run = CliProcess.Run("import", path, "--out", dir.Combine("out"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Stderr, Does.Contain("error LMOE1140"));
        Assert.That(run.Stdout, Is.Empty);
    }

    [Test]
    public void InspectListsArchitectureAndTensors()
    {
        using var dir = new TempDirectory("cli-inspect");
        var model = dir.Combine("m");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KBin, "--out", model, "--tokenizer", SharedData.Tok512Model).ExitCode, Is.EqualTo(0));
        var run = CliProcess.Run("inspect", model);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        Assert.That(run.Stdout, Does.Contain("parameters    260,032"));
        Assert.That(run.Stdout, Does.Contain("model.layers.4.mlp.down_proj.weight"));
    }
}
