using LlamaMoe.Cli.Rendering;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>
/// Issue 15, "control characters reach the terminal raw": text that comes from files, arguments, steps or the model is
/// escaped where the CLI renders it (error stream, run observers, command output), so it cannot clear, recolour or rewrite the terminal.
/// </summary>
[NonParallelizable]
public sealed class TerminalEscapingTests
{
    private const string Hostile = "\u001b[2J\u001b]0;owned\u0007\u009b31m\u202e";

    private static readonly char[] ControlCharacters = ['\u001b', '\u0007', '\u009b', '\u202e'];

    [Test]
    public void TheSafeWriterEscapesControlCharactersButKeepsLinesAndTabs()
    {
        var inner = new StringWriter();
        using var writer = new TerminalSafeWriter(inner);
        writer.Write("a\tb" + Hostile);
        writer.Write('\u001b');
        writer.WriteLine("line two\nline three");
        Assert.That(inner.ToString(), Is.EqualTo("a\tb\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202e\\x1bline two\nline three" + inner.NewLine));
    }

    [Test]
    public void PlainObserverEscapesStepMessagesAndReasons()
    {
        var writer = new StringWriter();
        var observer = new PlainRunObserver(writer);
        observer.StageStarted("s", "p", ["input " + Hostile + " changed"]);
        observer.StageLog("s", warning: true, "tensor " + Hostile);
        Assert.That(writer.ToString().IndexOfAny(ControlCharacters), Is.EqualTo(-1), writer.ToString());
        Assert.That(writer.ToString(), Does.Contain("tensor \\x1b[2J"));
    }

    [Test]
    public void GenerateEscapesControlCharactersInThePromptAndTheGeneratedText()
    {
        using var dir = new TempDirectory("cli-escape");
        var model = dir.Combine("m");
        var import = CliProcess.Run("import", SharedData.Stories260KBin, "--out", model, "--tokenizer", SharedData.Tok512Model);
        Assert.That(import.ExitCode, Is.EqualTo(0), import.Stderr);
        var run = CliProcess.Run("generate", model, "--prompt", "Once\u001b[2J upon", "--max-new-tokens", "4", "--device", "cpu");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        Assert.That(run.Stdout.IndexOfAny(ControlCharacters), Is.EqualTo(-1), "a control character reached the terminal");
        Assert.That(run.Stdout, Does.Contain("\\x1b[2J"));
    }

    [Test]
    public void PipelineMessagesQuotingAHostileValueOrPathAreEscaped()
    {
        using var dir = new TempDirectory("cli-escape");
        var pipeline = dir.Combine("p\u001b[31m.yaml");
        File.WriteAllText(pipeline, "name: p\nstages:\n  data:\n    uses: data/synthetic\n    with: { people: \"\\e[2J\\a\", train-examples: 4, eval-examples: 2 }\n");
        var invalid = CliProcess.Run("validate", pipeline);
        Assert.That(invalid.ExitCode, Is.EqualTo(1), invalid.Stderr);
        Assert.That(invalid.Stderr, Does.Contain("error LMOE0052"));
        Assert.That((invalid.Stdout + invalid.Stderr).IndexOfAny(ControlCharacters), Is.EqualTo(-1), invalid.Stderr);

        File.WriteAllText(pipeline, "name: p\nstages:\n  data:\n    uses: data/synthetic\n    with: { people: 2, train-examples: 4, eval-examples: 2 }\n");
        var valid = CliProcess.Run("validate", pipeline);
        Assert.That(valid.ExitCode, Is.EqualTo(0), valid.Stderr);
        Assert.That(valid.Stdout, Does.Contain("p\\x1b[31m.yaml: valid"));
    }
}
