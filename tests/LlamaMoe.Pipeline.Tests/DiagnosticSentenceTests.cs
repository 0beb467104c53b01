using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Tests.TestPlugins;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

/// <summary>A rendered diagnostic reads as two sentences: the message ends with punctuation before the advice starts.</summary>
public sealed class DiagnosticSentenceTests
{
    [Test]
    public void MessageWithoutPunctuationGetsAPeriodBeforeTheAdvice()
    {
        var ex = new LlamaMoeException("LMOE0056", "option 'data' names '/x/corpus.txt', which does not exist", "/x/p.yaml",
            advice: "Paths are relative to the pipeline file's folder", line: 3, column: 9);
        Assert.That(ex.ToCanonicalString(), Is.EqualTo(
            "/x/p.yaml(3,9): error LMOE0056: option 'data' names '/x/corpus.txt', which does not exist. Paths are relative to the pipeline file's folder."));
    }

    [Test]
    public void KeyStaysBetweenTheTwoSentences()
    {
        var ex = new LlamaMoeException("LMOE0050", "unknown option 'repaet'", key: "a.repaet", advice: "Did you mean 'repeat'?");
        Assert.That(ex.ToCanonicalString(), Is.EqualTo("llama-moe: error LMOE0050: unknown option 'repaet'. [a.repaet] Did you mean 'repeat'?"));
    }

    [TestCase("it failed.", "it failed.")]
    [TestCase("is it there?", "is it there?")]
    [TestCase("stop!", "stop!")]
    [TestCase("known: ", "known:")]
    [TestCase("see the docs (chapter 2)", "see the docs (chapter 2).")]
    [TestCase("it said \"done.\"", "it said \"done.\"")]
    [TestCase("found 'eight'", "found 'eight'.")]
    public void AsSentenceAddsAPeriodOnlyWhenTerminalPunctuationIsMissing(string text, string expected) =>
        Assert.That(LlamaMoeException.AsSentence(text), Is.EqualTo(expected));

    [Test]
    public void MessageWithoutAdviceOrKeyIsLeftAsItIs()
    {
        var ex = new LlamaMoeException("LMOE3001", "loss became NaN at step 12");
        Assert.That(ex.ToCanonicalString(), Is.EqualTo("llama-moe: error LMOE3001: loss became NaN at step 12"));
    }

    [Test]
    public void EveryGoldenInvalidPipelineDiagnosticWithAdviceRendersAsTwoSentences()
    {
        var folder = Path.Combine(RepositoryPaths.Root, "tests", "LlamaMoe.Pipeline.Tests", "TestData", "Invalid");
        var settings = new PipelineLoadSettings { Environment = name => name == "LLAMAMOE_SURELY_UNSET_VARIABLE" ? null : Environment.GetEnvironmentVariable(name) };
        var checkedCount = 0;
        foreach (var path in Directory.EnumerateFiles(folder, "*.yaml"))
        {
            foreach (var diagnostic in PipelineLoader.Load(path, settings, [typeof(WriteStep).Assembly]).Diagnostics.Where(d => d.Advice is not null))
            {
                var rendered = diagnostic.ToString();
                var messageEnd = rendered.Length - LlamaMoeException.AsSentence(diagnostic.Advice!).Length - 1;
                Assert.That(rendered[..messageEnd], Does.Match(@"[.!?:]['"")\]]*$"), rendered);
                Assert.That(rendered, Does.Match(@"[.!?:]['"")\]]*$"), rendered);
                checkedCount++;
            }
        }

        Assert.That(checkedCount, Is.GreaterThan(10));
    }
}
