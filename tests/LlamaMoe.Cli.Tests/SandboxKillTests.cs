using System.Text.Json;
using LlamaMoe.Plugins.Evaluation;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class SandboxKillTests
{
    [Test]
    public void KillingLlamaMoeWithSigkillDuringHumanEvalKillsTheSandboxedProgram()
    {
        if (PythonSandbox.Probe(out var reason) is null)
        {
            Assert.Ignore(reason!);
        }

        using var dir = new TempDirectory("cli-sandbox-kill");
        var model = dir.Combine("m");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KBin, "--out", model, "--tokenizer", SharedData.Tok512Model).ExitCode, Is.EqualTo(0));

        // Whatever the model completes lands inside a string literal, so the program always reaches its long sleep.
        var data = dir.Combine("sleepy.jsonl");
        var problem = new Dictionary<string, string>
        {
            ["task_id"] = "Sleepy/0",
            ["prompt"] = "import time\ntime.sleep(300)\n\ndef f():\n    return '''",
            ["entry_point"] = "f",
            ["canonical_solution"] = "x'''\n",
            ["test"] = "'''\n\ndef check(candidate):\n    pass\n",
        };
        File.WriteAllText(data, JsonSerializer.Serialize(problem) + "\n");

        using var cli = CliProcess.Start("eval", model, "--task", "humaneval", "--data", data, "--max-new-tokens", "4", "--device", "cpu");
        _ = cli.StandardOutput.ReadToEndAsync();
        _ = cli.StandardError.ReadToEndAsync();
        var sandboxed = WaitForLongRunningHarness(cli.Id, TimeSpan.FromSeconds(120));
        Assert.That(sandboxed, Is.Not.Null, "the sandboxed program started under llama-moe");
        var pids = sandboxed!;

        // A killed llama-moe cannot delete its job folder (named in the launcher's command line): the test does.
        var jobFolders = pids.SelectMany(p => ProcessTree.CommandLine(p).Split(' ')).Where(a => Path.GetFileName(a).StartsWith("llamamoe-sandbox-", StringComparison.Ordinal) && Directory.Exists(a)).Distinct().ToList();
        ProcessTree.KillHard(cli.Id);
        cli.WaitForExit();

        try
        {
            Assert.That(ProcessTree.WaitUntilGone(pids, TimeSpan.FromSeconds(15)), Is.True, "every sandbox process died with llama-moe");
        }
        finally
        {
            foreach (var folder in jobFolders)
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>The descendants of <paramref name="root"/> once one of them has run the harness for over two seconds (past the probe).</summary>
    private static List<int>? WaitForLongRunningHarness(int root, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = new Dictionary<int, DateTime>();
        while (DateTime.UtcNow < deadline)
        {
            var descendants = ProcessTree.Descendants(root);
            foreach (var pid in descendants.Where(p => ProcessTree.CommandLine(p).Contains("/sandbox/harness.py", StringComparison.Ordinal)))
            {
                if (seen.TryGetValue(pid, out var first) && DateTime.UtcNow - first > TimeSpan.FromSeconds(2))
                {
                    return descendants;
                }

                seen.TryAdd(pid, DateTime.UtcNow);
            }

            Thread.Sleep(200);
        }

        return null;
    }
}
