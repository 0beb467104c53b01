using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests;

public sealed class CanonicalDiagnosticTests
{
    [Test]
    public void ParsesFileLineColumnCodeAndMessage()
    {
        var d = CanonicalDiagnostic.TryParse("/repo/recipes/tiny.yaml(12,7): error LMOE0012: unknown option 'expert' [split.expert] Did you mean 'experts'?");

        Assert.That(d, Is.Not.Null);
        Assert.That(d!.Origin, Is.EqualTo("/repo/recipes/tiny.yaml"));
        Assert.That((d.Line, d.Column), Is.EqualTo((12, 7)));
        Assert.That(d.Severity, Is.EqualTo(DiagnosticSeverity.Error));
        Assert.That(d.Code, Is.EqualTo("LMOE0012"));
        Assert.That(d.Message, Is.EqualTo("unknown option 'expert' [split.expert] Did you mean 'experts'?"));
        Assert.That(d.HasFile, Is.True);
    }

    [Test]
    public void ParsesLineWithoutColumn()
    {
        var d = CanonicalDiagnostic.TryParse("a/b.yaml(3): warning LMOE0100: deprecated key");

        Assert.That(d, Is.Not.Null);
        Assert.That((d!.Line, d.Column, d.Severity), Is.EqualTo((3, 0, DiagnosticSeverity.Warning)));
    }

    [Test]
    public void ParsesFileWithoutPosition()
    {
        var d = CanonicalDiagnostic.TryParse("/models/x/model.safetensors: error LMOE1003: header longer than the file");

        Assert.That(d, Is.Not.Null);
        Assert.That((d!.Origin, d.Line, d.Column, d.HasFile), Is.EqualTo(("/models/x/model.safetensors", 0, 0, true)));
    }

    [Test]
    public void ToolOriginIsNotAFile()
    {
        var d = CanonicalDiagnostic.TryParse("llama-moe: error LMOE3001: loss became NaN at step 12");

        Assert.That(d, Is.Not.Null);
        Assert.That(d!.Origin, Is.EqualTo("llama-moe"));
        Assert.That(d.HasFile, Is.False);
        Assert.That(d.Message, Is.EqualTo("loss became NaN at step 12"));
    }

    [Test]
    public void WindowsDrivePathKeepsItsColon()
    {
        var d = CanonicalDiagnostic.TryParse(@"C:\models\tiny.yaml(4,2): error LMOE0001: bad indentation");

        Assert.That(d, Is.Not.Null);
        Assert.That(d!.Origin, Is.EqualTo(@"C:\models\tiny.yaml"));
        Assert.That((d.Line, d.Column), Is.EqualTo((4, 2)));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("[split] done in 1.2 s: 8 experts")]
    [TestCase("stage train: step 10/100 loss 2.31 (error bars: none)")]
    [TestCase("pipeline tiny-moe: up to date (5 stages)")]
    [TestCase(": error LMOE0001: no origin")]
    [TestCase("file.yaml(1,2): error : no code")]
    public void OrdinaryLinesAreNotDiagnostics(string line) =>
        Assert.That(CanonicalDiagnostic.TryParse(line), Is.Null);
}
