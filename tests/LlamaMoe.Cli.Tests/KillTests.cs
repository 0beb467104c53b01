using System.Text.Json;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class KillTests
{
    [Test]
    public void KillingTheCliMidStageLeavesTheStoreIntactAndTheRerunRedoesOnlyThatStage()
    {
        using var temp = new TempDirectory();
        var pipeline = temp.Combine("pipeline.yaml");
        File.WriteAllText(pipeline, $"""
            name: kill
            plugins:
              - {typeof(KillTests).Assembly.Location}
            stages:
              first: {"{"} uses: test-cli/write, with: {"{"} text: one {"}"} {"}"}
              slow: {"{"} uses: test-cli/slow, needs: [first] {"}"}
            """);

        using (var process = CliProcess.Start("run", pipeline, "--plain"))
        {
            _ = process.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            string? line;
            while ((line = process.StandardOutput.ReadLine()) is not null && !line.Contains("[slow] checkpoint written", StringComparison.Ordinal))
            {
                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the slow stage never started");
            }

            Assert.That(line, Is.Not.Null, "the CLI exited before the slow stage started");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        var store = temp.Combine(".llamamoe");
        Assert.That(Directory.GetDirectories(Path.Combine(store, "objects")), Has.Length.EqualTo(1), "only the finished stage is published");
        Assert.That(Directory.Exists(temp.Combine("artifacts", "kill", "slow")), Is.False);
        using (var lockJson = JsonDocument.Parse(File.ReadAllText(temp.Combine("pipeline.lock.json"))))
        {
            var stages = lockJson.RootElement.GetProperty("stages").EnumerateObject().Select(p => p.Name).ToList();
            Assert.That(stages, Is.EqualTo(new[] { "first" }), "the lock file is whole and records only the finished stage");
        }

        Assert.That(Directory.GetDirectories(Path.Combine(store, "scratch")), Has.Length.EqualTo(1), "the interrupted stage's resume folder survives");

        var rerun = CliProcess.Run("run", pipeline, "--plain");
        Assert.That(rerun.ExitCode, Is.EqualTo(0), rerun.Stderr);
        Assert.That(rerun.Stdout, Does.Contain("[first] up to date"));
        Assert.That(rerun.Stdout, Does.Contain("[slow] start"));
        Assert.That(File.ReadAllText(temp.Combine("artifacts", "kill", "slow", "out.txt")), Is.EqualTo("resumed from step 1"));
        Assert.That(File.Exists(temp.Combine("artifacts", "kill", "slow", "partial.txt")), Is.False, "the killed run's partial output was never published");
        Assert.That(Directory.GetDirectories(Path.Combine(store, "tmp")), Is.Empty, "leftovers of the killed run are cleaned");
        Assert.That(Directory.GetDirectories(Path.Combine(store, "scratch")), Is.Empty, "the resume folder is removed after publishing");
    }
}
