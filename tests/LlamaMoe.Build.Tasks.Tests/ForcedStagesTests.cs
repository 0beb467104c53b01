using LlamaMoe.Build.Tasks.Tests.Integration;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests;

/// <summary>The task's <c>ForceStage</c> list reaches the real CLI in a form it reads: each listed stage runs again.</summary>
public sealed class ForcedStagesTests
{
    [Test]
    public void EveryStageInForceStageRunsAgainInTheRealCli()
    {
        using var dir = new TempDirectory("task-force");
        var pipeline = dir.Combine("p.yaml");
        File.WriteAllText(pipeline,
            "name: p\nstages:\n" +
            "  a: { uses: data/synthetic, with: { people: 2, train-examples: 4, eval-examples: 2 } }\n" +
            "  b: { uses: data/synthetic, with: { people: 2, train-examples: 4, eval-examples: 3 } }\n" +
            "  c: { uses: data/synthetic, with: { people: 2, train-examples: 4, eval-examples: 4 } }\n");
        Assert.That(Run(pipeline, null).Succeeded, Is.True, "first run");

        var forced = Run(pipeline, "a; c");
        Assert.That(forced.Succeeded, Is.True, string.Join('\n', forced.Engine.HighMessages));
        var log = string.Join('\n', forced.Engine.HighMessages);
        Assert.Multiple(() =>
        {
            Assert.That(log, Does.Contain("[a] start (data/synthetic): forced"));
            Assert.That(log, Does.Contain("[c] start (data/synthetic): forced"));
            Assert.That(log, Does.Contain("[b] up to date"));
        });
    }

    private static (bool Succeeded, FakeBuildEngine Engine) Run(string pipeline, string? force)
    {
        var engine = new FakeBuildEngine();
        var task = new RunLlamaMoePipeline { BuildEngine = engine, CliPath = DotnetBuild.CliPath, PipelineFile = pipeline, ForceStage = force, Device = "cpu" };
        return (task.Execute(), engine);
    }
}
