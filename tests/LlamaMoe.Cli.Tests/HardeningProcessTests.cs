using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>
/// Hostile or careless inputs (issue 15, "crashes instead of coded errors" and "hangs and unbounded memory"): each must end
/// with one coded error and the documented exit code, quickly, never with a stack trace or a hang.
/// </summary>
[NonParallelizable]
public sealed partial class HardeningProcessTests
{
    private TempDirectory dir = null!;
    private string model = null!;

    [OneTimeSetUp]
    public void ImportStories260K()
    {
        dir = new TempDirectory("cli-hardening");
        model = dir.Combine("m");
        var import = CliProcess.Run("import", SharedData.Stories260KBin, "--out", model, "--tokenizer", SharedData.Tok512Model);
        Assert.That(import.ExitCode, Is.EqualTo(0), import.Stderr);
    }

    [OneTimeTearDown]
    public void RemoveTemp() => dir.Dispose();

    private static IEnumerable<TestCaseData> DataInputs()
    {
        yield return new TestCaseData("directory", "LMOE0901").SetName("EvalRefusesADirectoryAsDataWithLMOE0901");
        yield return new TestCaseData("fifo", "LMOE0902").SetName("EvalRefusesAFifoAsDataWithoutBlockingWithLMOE0902");
        yield return new TestCaseData("/dev/zero", "LMOE0902").SetName("EvalRefusesDevZeroAsDataWithoutReadingItWithLMOE0902");
        yield return new TestCaseData("long-line", "LMOE0903").SetName("EvalRefusesA3MiBLineWithLMOE0903NamingTheLine");
        yield return new TestCaseData("long-jsonl", "LMOE0903").SetName("Gsm8kRefusesA3MiBJsonLineWithLMOE0903");
        yield return new TestCaseData("mmlu-without-test", "LMOE3305").SetName("MmluFolderWithoutTestIsACodedError");
        yield return new TestCaseData("mbpp-numbers", "LMOE3003").SetName("MbppTestListWithNumbersIsACodedErrorNamingTheItem");
        yield return new TestCaseData("duplicate-jsonl-key", "LMOE3002").SetName("JsonLinesRecordWithADuplicateKeyIsRefused");
    }

    [TestCaseSource(nameof(DataInputs))]
    public void BadDataEndsWithItsCodeQuickly(string kind, string code)
    {
        var task = "perplexity";
        string data;
        switch (kind)
        {
            case "directory":
                data = dir.Path;
                break;
            case "fifo":
                data = dir.Combine("fifo-" + Guid.NewGuid().ToString("N"));
                using (var mkfifo = Process.Start("mkfifo", [data]))
                {
                    mkfifo.WaitForExit();
                    Assert.That(mkfifo.ExitCode, Is.EqualTo(0), "mkfifo failed");
                }

                break;
            case "/dev/zero":
                data = "/dev/zero";
                break;
            case "long-line":
                data = dir.Combine("long.txt");
                File.WriteAllText(data, "short first line\n" + new string('a', 3 << 20) + "\n");
                break;
            case "long-jsonl":
                task = "gsm8k";
                data = dir.Combine("long.jsonl");
                File.WriteAllText(data, "{\"question\":\"" + new string('a', 3 << 20) + "\",\"answer\":\"#### 1\"}\n");
                break;
            case "mmlu-without-test":
                task = "mmlu";
                data = dir.Combine("mmlu-no-test");
                Directory.CreateDirectory(Path.Combine(data, "dev"));
                break;
            case "mbpp-numbers":
                task = "mbpp";
                data = dir.Combine("mbpp.jsonl");
                File.WriteAllText(data, "{\"task_id\":1,\"text\":\"t\",\"code\":\"c\",\"test_list\":[1,2]}\n");
                break;
            default:
                task = "gsm8k";
                data = dir.Combine("dup.jsonl");
                File.WriteAllText(data, "{\"question\":\"q\",\"question\":\"r\",\"answer\":\"#### 1\"}\n");
                break;
        }

        var watch = Stopwatch.StartNew();
        var run = CliProcess.Run("eval", model, "--task", task, "--data", data, "--device", "cpu");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
            Assert.That(run.Stderr, Does.Contain("error " + code), run.Stderr);
            AssertNoStackTrace(run.Stderr);
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(90)), "must not block or read forever");
        });
        if (kind == "long-line")
        {
            Assert.That(run.Stderr, Does.Contain("line 2"));
        }
    }

    private static IEnumerable<TestCaseData> ConfigEdits()
    {
        yield return new TestCaseData("duplicate", "LMOE2002").SetName("ConfigWithADuplicateKeyIsLMOE2002");
        yield return new TestCaseData("vocab_size=2000000000", "LMOE0906").SetName("ConfigTooLargeForMemoryIsRefusedBeforeAllocatingWithLMOE0906");
        yield return new TestCaseData("intermediate_size=2000000000", "LMOE0906").SetName("AbsurdIntermediateSizeIsRefusedBeforeAllocatingWithLMOE0906");
        yield return new TestCaseData("num_attention_heads=0", "LMOE2004").SetName("ZeroAttentionHeadsIsLMOE2004NotADivisionByZero");
        yield return new TestCaseData("hidden_size=-64", "LMOE2004").SetName("NegativeHiddenSizeIsLMOE2004");
    }

    [TestCaseSource(nameof(ConfigEdits))]
    public void BrokenConfigEndsWithItsCode(string edit, string code)
    {
        var copy = dir.Combine("cfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(model))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var configPath = Path.Combine(copy, "config.json");
        var text = File.ReadAllText(configPath);
        if (edit == "duplicate")
        {
            text = text.Replace("\"vocab_size\": 512,", "\"vocab_size\": 512,\n  \"vocab_size\": 512,", StringComparison.Ordinal);
        }
        else
        {
            var (key, value) = (edit[..edit.IndexOf('=')], long.Parse(edit[(edit.IndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            var root = JsonNode.Parse(text)!.AsObject();
            root[key] = value;
            text = root.ToJsonString();
        }

        File.WriteAllText(configPath, text);
        foreach (var args in new[] { new[] { "eval", copy, "--data", SharedData.TinyStoriesValid, "--count", "1", "--device", "cpu" }, ["generate", copy, "--prompt", "Once", "--max-new-tokens", "2", "--device", "cpu"] })
        {
            var run = CliProcess.Run(args);
            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
                Assert.That(run.Stderr, Does.Contain("error " + code), run.Stderr);
                Assert.That(run.Stderr, Does.Contain("config.json"));
                AssertNoStackTrace(run.Stderr);
            });
        }
    }

    [Test]
    public void GgufWithZeroHeadsIsACodedErrorNotADivisionByZero()
    {
        var bytes = File.ReadAllBytes(SharedData.Stories260KGguf);
        var key = "llama.attention.head_count"u8.ToArray();
        var at = bytes.AsSpan().IndexOf((byte[])[.. key, 4, 0, 0, 0]);
        Assert.That(at, Is.GreaterThan(0), "head_count (uint32) not found in the GGUF file");
        BitConverter.TryWriteBytes(bytes.AsSpan(at + key.Length + 4, 4), 0u);
        var path = dir.Combine("zero-heads.gguf");
        File.WriteAllBytes(path, bytes);
        var run = CliProcess.Run("import", path, "--out", dir.Combine("zero-heads"));
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
        Assert.That(run.Stderr, Does.Contain("error LMOE2004").And.Contain("num_attention_heads"));
        AssertNoStackTrace(run.Stderr);
    }

    private static IEnumerable<TestCaseData> BadOptions()
    {
        yield return new TestCaseData(new[] { "eval", "{model}", "--data", "{valid}", "--first", "-3" }, "--first").SetName("NegativeFirstIsAUsageError");
        yield return new TestCaseData(new[] { "eval", "{model}", "--data", "{valid}", "--count", "0" }, "--count").SetName("CountZeroIsBlamedOnCount");
        yield return new TestCaseData(new[] { "eval", "{model}", "--data", "{valid}", "--shots", "-1" }, "--shots").SetName("NegativeShotsIsAUsageError");
        yield return new TestCaseData(new[] { "eval", "{model}", "--task", "gsm8k", "--data", "{valid}", "--max-new-tokens", "-5" }, "--max-new-tokens").SetName("NegativeMaxNewTokensInEvalIsAUsageError");
        yield return new TestCaseData(new[] { "generate", "{model}", "--prompt", "x", "--max-new-tokens", "-5" }, "--max-new-tokens").SetName("NegativeMaxNewTokensInGenerateIsAUsageError");
        yield return new TestCaseData(new[] { "eval", "{model}", "--data", "{valid}", "--max-length", "0" }, "--max-length").SetName("ZeroMaxLengthIsAUsageError");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void OutOfRangeOptionIsAUsageErrorNamingIt(string[] args, string option)
    {
        var run = CliProcess.Run(args.Select(a => a.Replace("{model}", model, StringComparison.Ordinal).Replace("{valid}", SharedData.TinyStoriesValid, StringComparison.Ordinal)).ToArray());
        Assert.That(run.ExitCode, Is.EqualTo(2), run.Stderr);
        Assert.That(run.Stderr, Does.Contain(option + " must be at least"));
    }

    private static IEnumerable<TestCaseData> BadPaths()
    {
        yield return new TestCaseData(new[] { "eval", "{missing}", "--data", "{valid}" }, "LMOE0905", "does not exist").SetName("EvalOfAMissingFolderSaysItDoesNotExist");
        yield return new TestCaseData(new[] { "generate", "{missing}", "--prompt", "x" }, "LMOE0905", "does not exist").SetName("GenerateOfAMissingFolderSaysItDoesNotExist");
        yield return new TestCaseData(new[] { "inspect", "{file}" }, "LMOE0905", "is a file").SetName("InspectOfAFileSaysItIsNotAFolder");
        yield return new TestCaseData(new[] { "import", "{bin}", "--out", "{file}" }, "LMOE0904", "existing file").SetName("ImportOutNamingAnExistingFileIsLMOE0904");
        yield return new TestCaseData(new[] { "convert", "{model}", "--out", "{file}", "--experts", "2", "--top-k", "1", "--split", "random" }, "LMOE0904", "existing file").SetName("ConvertOutNamingAnExistingFileIsLMOE0904");
        yield return new TestCaseData(new[] { "run", "{pipeline}", "--store", "{file}" }, "LMOE0907", "names a file").SetName("StoreNamingARegularFileIsLMOE0907");
        yield return new TestCaseData(new[] { "run", "{pipeline}", "--store", "/proc/llamamoe-store" }, "LMOE0907", "cannot be created or written").SetName("StoreThatCannotBeWrittenIsLMOE0907");
    }

    [TestCaseSource(nameof(BadPaths))]
    public void BadPathEndsWithItsCode(string[] args, string code, string phrase)
    {
        var file = dir.Combine("a-file");
        File.WriteAllText(file, "not a folder");
        var pipeline = dir.Combine("p.yaml");
        File.WriteAllText(pipeline, "name: p\nstages:\n  data:\n    uses: data/synthetic\n    with: { people: 2, train-examples: 4, eval-examples: 2 }\n");
        var run = CliProcess.Run(args.Select(a => a
            .Replace("{model}", model, StringComparison.Ordinal)
            .Replace("{missing}", dir.Combine("no-such-model"), StringComparison.Ordinal)
            .Replace("{valid}", SharedData.TinyStoriesValid, StringComparison.Ordinal)
            .Replace("{bin}", SharedData.Stories260KBin, StringComparison.Ordinal)
            .Replace("{pipeline}", pipeline, StringComparison.Ordinal)
            .Replace("{file}", file, StringComparison.Ordinal)).ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
            Assert.That(run.Stderr, Does.Contain("error " + code));
            Assert.That(run.Stderr, Does.Contain(phrase));
            Assert.That(run.Stderr, Does.Not.Contain("has no tokenizer.model"));
            AssertNoStackTrace(run.Stderr);
        });
    }

    [Test]
    public void NanPerplexityIsPrintedAsNullAndFailsWithLMOE0908()
    {
        var broken = dir.Combine("nan-model");
        Directory.CreateDirectory(broken);
        foreach (var file in Directory.GetFiles(model))
        {
            File.Copy(file, Path.Combine(broken, Path.GetFileName(file)));
        }

        PoisonTensor(Path.Combine(broken, "model.safetensors"), "model.norm.weight");
        var json = CliProcess.Run("eval", broken, "--data", SharedData.TinyStoriesValid, "--count", "2", "--json", "--device", "cpu");
        Assert.That(json.ExitCode, Is.EqualTo(1), json.Stderr);
        Assert.That(json.Stderr, Does.Contain("error LMOE0908"));
        AssertNoStackTrace(json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.That(document.RootElement.GetProperty("perplexity").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(document.RootElement.GetProperty("non_finite").EnumerateArray().Select(e => e.GetString()), Does.Contain("perplexity"));

        var text = CliProcess.Run("eval", broken, "--data", SharedData.TinyStoriesValid, "--count", "2", "--device", "cpu");
        Assert.That(text.ExitCode, Is.EqualTo(1));
        Assert.That(text.Stderr, Does.Contain("error LMOE0908"));
    }

    [Test]
    public void ControlCharactersInEchoedNamesAreEscaped()
    {
        var run = CliProcess.Run("eval", dir.Combine("evil\u001b[2J\u202ename"), "--data", SharedData.TinyStoriesValid);
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
        Assert.That(run.Stderr.IndexOfAny(['\u001b', '\u202e']), Is.EqualTo(-1), "a control character reached the terminal");
        Assert.That(run.Stderr, Does.Contain("evil\\x1b[2J\\u202ename"));
        var unknown = CliProcess.Run("gen\u001b[31merate");
        Assert.That(unknown.ExitCode, Is.EqualTo(2));
        Assert.That(unknown.Stderr.Contains('\u001b', StringComparison.Ordinal), Is.False);
        Assert.That(unknown.Stderr, Does.Contain("gen\\x1b[31merate"));
    }

    [Test]
    public void InspectEscapesControlCharactersInTensorNames()
    {
        var copy = dir.Combine("evil-names");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(model))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var weights = Path.Combine(copy, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength))!.AsObject();
        var entry = header["model.norm.weight"]!.DeepClone();
        header.Remove("model.norm.weight");
        header["model.norm\u001b[2J.weight"] = entry;
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        var rewritten = new byte[8 + padded + (bytes.Length - 8 - headerLength)];
        BitConverter.TryWriteBytes(rewritten.AsSpan(0, 8), (ulong)padded);
        json.CopyTo(rewritten, 8);
        rewritten.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        bytes.AsSpan(8 + headerLength).CopyTo(rewritten.AsSpan(8 + padded));
        File.WriteAllBytes(weights, rewritten);

        var run = CliProcess.Run("inspect", copy);
        var output = run.Stdout + run.Stderr;
        Assert.That(output.Contains('\u001b', StringComparison.Ordinal), Is.False, "a control character reached the terminal");
        if (run.ExitCode == 0)
        {
            Assert.That(run.Stdout, Does.Contain("model.norm\\x1b[2J.weight"));
        }
        else
        {
            Assert.That(run.Stderr, Does.Match(@"error LMOE\d{4}: "));
            AssertNoStackTrace(run.Stderr);
        }
    }

    [Test]
    public void AnUnexpectedExceptionPrintsOneCodedLineAndWritesTheTraceToAFile()
    {
        // A tokenizer.model that is not a protobuf: whichever layer refuses it, the CLI must print one coded line, never a trace;
        // when it is an internal error (LMOE0999), the named file holds the trace.
        var broken = dir.Combine("bad-tokenizer");
        Directory.CreateDirectory(broken);
        foreach (var file in Directory.GetFiles(model))
        {
            File.Copy(file, Path.Combine(broken, Path.GetFileName(file)));
        }

        File.WriteAllBytes(Path.Combine(broken, "tokenizer.model"), [0x01, 0x02]);
        var state = dir.Combine("state");
        var run = CliProcess.RunWith(new Dictionary<string, string?> { ["XDG_STATE_HOME"] = state }, "generate", broken, "--prompt", "x");
        Assert.That(run.ExitCode, Is.EqualTo(1), run.Stderr);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), run.Stderr);
        Assert.That(lines[0], Does.Match(@"error LMOE\d{4}: "));
        AssertNoStackTrace(run.Stderr);
        if (CrashFile().Match(lines[0]) is { Success: true } match)
        {
            Assert.That(match.Groups[1].Value, Does.StartWith(Path.Combine(state, "llama-moe")));
            Assert.That(File.ReadAllText(match.Groups[1].Value), Does.Contain("   at "));
        }
    }

    [Test]
    public void CrashReportWritesTheTraceUnderXdgStateHomeAndReturnsOneLine()
    {
        var state = dir.Combine("state-unit");
        var previous = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        Environment.SetEnvironmentVariable("XDG_STATE_HOME", state);
        try
        {
            Exception thrown;
            try
            {
                throw new InvalidOperationException("boom \u001b[31m\nsecond line");
            }
            catch (InvalidOperationException ex)
            {
                thrown = ex;
            }

            var line = CrashReport.Write(thrown, ["eval", "x"]);
            Assert.That(line, Does.StartWith("llama-moe: error LMOE0999: internal error (System.InvalidOperationException: boom \\x1b[31m); the full trace was written to "));
            Assert.That(line, Does.Not.Contain("\n").And.Not.Contain("second line"));
            var path = CrashFile().Match(line).Groups[1].Value;
            Assert.That(Path.GetDirectoryName(path), Is.EqualTo(Path.Combine(state, "llama-moe")));
            var trace = File.ReadAllText(path);
            Assert.That(trace, Does.Contain("llama-moe eval x").And.Contain("second line").And.Contain(nameof(CrashReportWritesTheTraceUnderXdgStateHomeAndReturnsOneLine)));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_STATE_HOME", previous);
        }
    }

    [Test]
    public void CrashReportFallsBackWhenTheStateFolderCannotBeWritten()
    {
        var previous = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        Environment.SetEnvironmentVariable("XDG_STATE_HOME", "/proc/llamamoe-state");
        try
        {
            var line = CrashReport.Write(new InvalidOperationException("boom"), []);
            var path = CrashFile().Match(line).Groups[1].Value;
            Assert.That(File.Exists(path), Is.True, line);
            Assert.That(path, Does.Not.StartWith("/proc"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_STATE_HOME", previous);
        }
    }

    private static void AssertNoStackTrace(string stderr) =>
        Assert.That(stderr, Does.Not.Contain("   at ").And.Not.Contain("Unhandled exception"), "a stack trace reached the terminal");

    private static void PoisonTensor(string safetensors, string name)
    {
        var bytes = File.ReadAllBytes(safetensors);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength));
        var offsets = header.RootElement.GetProperty(name).GetProperty("data_offsets");
        var start = 8 + headerLength + offsets[0].GetInt32();
        var end = 8 + headerLength + offsets[1].GetInt32();
        for (var i = start; i < end; i += 4)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(i, 4), float.NaN);
        }

        File.WriteAllBytes(safetensors, bytes);
    }

    [GeneratedRegex(@"written to (\S+\.txt)\.")]
    private static partial Regex CrashFile();
}
