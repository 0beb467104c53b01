using System.Diagnostics;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>
/// A FIFO, <c>/dev/zero</c> or an oversized file named as the pipeline or the model to import (issue 15, "hangs and unbounded
/// memory"): each is refused from its file type or size before it is opened, so the command ends at once with a coded error
/// instead of blocking in <c>open()</c> or reading until memory runs out.
/// </summary>
[NonParallelizable]
public sealed class SpecialFileInputTests
{
    private TempDirectory dir = null!;
    private string fifo = null!;

    [OneTimeSetUp]
    public void MakeFifo()
    {
        dir = new TempDirectory("cli-special-files");
        fifo = dir.Combine("pipe.yaml");
        using var mkfifo = Process.Start("mkfifo", [fifo])!;
        mkfifo.WaitForExit();
        Assert.That(mkfifo.ExitCode, Is.EqualTo(0), "mkfifo failed");
    }

    [OneTimeTearDown]
    public void RemoveTemp() => dir.Dispose();

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData("validate", "fifo", "LMOE0902").SetName("ValidateOfAFifoIsRefusedWithoutBlocking");
        yield return new TestCaseData("plan", "fifo", "LMOE0902").SetName("PlanOfAFifoIsRefusedWithoutBlocking");
        yield return new TestCaseData("run", "fifo", "LMOE0902").SetName("RunOfAFifoIsRefusedWithoutBlocking");
        yield return new TestCaseData("validate", "/dev/zero", "LMOE0902").SetName("ValidateOfDevZeroIsRefusedWithoutReadingIt");
        yield return new TestCaseData("validate", "huge", "LMOE0005").SetName("ValidateOfA2MiBPipelineIsRefusedFromItsSizeBeforeReading");
        yield return new TestCaseData("import", "fifo", "LMOE0902").SetName("ImportOfAFifoIsRefusedWithoutBlocking");
        yield return new TestCaseData("import", "/dev/zero", "LMOE0902").SetName("ImportOfDevZeroIsRefusedWithoutReadingIt");
        yield return new TestCaseData("import-tokenizer", "fifo", "LMOE0902").SetName("ImportWithAFifoAsTokenizerIsRefusedWithoutBlocking");
    }

    [TestCaseSource(nameof(Cases))]
    public void SpecialFileEndsWithItsCodeQuickly(string command, string input, string code)
    {
        var path = input switch
        {
            "fifo" => fifo,
            "huge" => WriteHugePipeline(),
            _ => input,
        };
        string[] args = command switch
        {
            "import" => ["import", path, "--out", dir.Combine("out-" + Guid.NewGuid().ToString("N"))],
            "import-tokenizer" => ["import", SharedData.Stories260KBin, "--out", dir.Combine("out-" + Guid.NewGuid().ToString("N")), "--tokenizer", path],
            _ => [command, path],
        };

        using var process = CliProcess.Start(new Dictionary<string, string?>(), args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"llama-moe {string.Join(' ', args)} still ran after 60 s (it blocked on the input)");
        }

        var output = stdout.Result + stderr.Result;
        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.EqualTo(1), output);
            Assert.That(output, Does.Contain(code));
            Assert.That(output, Does.Not.Contain("LMOE0999"));
            Assert.That(output, Does.Not.Contain("   at "), "no stack trace");
        });
    }

    private string WriteHugePipeline()
    {
        var path = dir.Combine("huge.yaml");
        using var writer = new StreamWriter(path);
        writer.WriteLine("name: huge");
        writer.WriteLine("stages:");
        for (var i = 0; writer.BaseStream.Length < (2 << 20); i++)
        {
            writer.WriteLine($"  # padding line {i} ..........................................................");
            writer.Flush();
        }

        return path;
    }
}
