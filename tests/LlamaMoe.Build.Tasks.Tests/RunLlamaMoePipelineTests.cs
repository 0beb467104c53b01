using Microsoft.Build.Framework;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests;

public sealed class RunLlamaMoePipelineTests
{
    [Test]
    public void CommandLineRunsThePipelineWithTheGivenOptionsQuotingPathsWithSpaces()
    {
        var task = new RunLlamaMoePipeline
        {
            CliPath = "/opt/llama moe/llama-moe.dll",
            PipelineFile = "/repo/recipes/tiny.yaml",
            StoreDir = "/repo/.llamamoe",
            Device = "cuda",
            ForceStage = "split; train",
            Variables = "steps=3;name=a b",
            AdditionalArguments = "--until eval",
        };

        Assert.That(task.BuildCommandLine(), Is.EqualTo(
            "exec \"/opt/llama moe/llama-moe.dll\" run /repo/recipes/tiny.yaml --store /repo/.llamamoe --device cuda --force split --force train --var steps=3 --var \"name=a b\" --until eval"));
    }

    [Test]
    public void EmptyOptionsAreLeftToTheCli()
    {
        var task = new RunLlamaMoePipeline { CliPath = "/t/llama-moe.dll", PipelineFile = "/r/p.yaml", StoreDir = "", Device = " " };

        Assert.That(task.BuildCommandLine(), Is.EqualTo("exec /t/llama-moe.dll run /r/p.yaml"));
    }

    [Test]
    public void ProcessReceivesEachArgumentIntact()
    {
        using var host = new FakeCliHost(0, ["ok"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        task.StoreDir = "/tmp/with space/store";
        task.ForceStage = "split";

        Assert.That(task.Execute(), Is.True);
        Assert.That(host.ReceivedArguments, Is.EqualTo(new[]
        {
            "exec", host.CliPath, "run", host.PipelineFile, "--store", "/tmp/with space/store", "--force", "split",
        }));
    }

    [Test]
    public void OutputStreamsAtHighImportanceVerbatim()
    {
        using var host = new FakeCliHost(0, ["stage split: running", "loss {0} {1}", "pipeline fake: up to date"], ["note on stderr"]);
        var engine = new FakeBuildEngine();

        Assert.That(host.CreateTask(engine).Execute(), Is.True);
        Assert.That(engine.HighMessages, Is.SupersetOf(new[] { "stage split: running", "loss {0} {1}", "pipeline fake: up to date", "note on stderr" }));
        Assert.That(engine.Errors, Is.Empty);
    }

    [Test]
    public void CanonicalErrorLineBecomesAnErrorAtItsFileLineColumnAndCode()
    {
        using var host = new FakeCliHost(1, [], ["/r/recipe.yaml(7,13): error LMOE0004: 'experts' must be a positive integer, got 'eight'"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);

        Assert.That(task.Execute(), Is.False);
        Assert.That(engine.Errors, Has.Count.EqualTo(1), "no generic exit-code error on top of the CLI's own diagnostic");
        var error = engine.Errors[0];
        Assert.That((error.File, error.LineNumber, error.ColumnNumber, error.Code), Is.EqualTo(("/r/recipe.yaml", 7, 13, "LMOE0004")));
        Assert.That(error.Message, Is.EqualTo("'experts' must be a positive integer, got 'eight'"));
        Assert.That(task.DiagnosticCount, Is.EqualTo(1));
    }

    [Test]
    public void ErrorWithoutFileIsReportedAgainstThePipeline()
    {
        using var host = new FakeCliHost(1, ["llama-moe: error LMOE3001: loss became NaN at step 12"]);
        var engine = new FakeBuildEngine();

        Assert.That(host.CreateTask(engine).Execute(), Is.False);
        Assert.That(engine.Errors.Single().File, Is.EqualTo(host.PipelineFile));
        Assert.That(engine.Errors.Single().Code, Is.EqualTo("LMOE3001"));
    }

    [Test]
    public void WarningLineBecomesAWarningAndTheBuildSucceeds()
    {
        using var host = new FakeCliHost(0, ["/r/recipe.yaml(2,1): warning LMOE0100: key 'lr' is deprecated"]);
        var engine = new FakeBuildEngine();

        Assert.That(host.CreateTask(engine).Execute(), Is.True);
        Assert.That(engine.Warnings.Single().Code, Is.EqualTo("LMOE0100"));
        Assert.That(engine.Warnings.Single().LineNumber, Is.EqualTo(2));
    }

    [Test]
    public void ErrorLineFailsTheTaskEvenWhenTheExitCodeIsZero()
    {
        using var host = new FakeCliHost(0, ["/r/recipe.yaml(1,1): error LMOE0001: broken"]);
        var engine = new FakeBuildEngine();

        Assert.That(host.CreateTask(engine).Execute(), Is.False);
    }

    [TestCase(1, "LMOE4002")]
    [TestCase(2, "LMOE4005")]
    [TestCase(3, "LMOE4003")]
    [TestCase(4, "LMOE4004")]
    [TestCase(130, "LMOE4008")]
    public void FailureWithoutDiagnosticIsReportedWithACodeForTheExitCode(int exitCode, string expectedCode)
    {
        using var host = new FakeCliHost(exitCode, ["some output"]);
        var engine = new FakeBuildEngine();

        Assert.That(host.CreateTask(engine).Execute(), Is.False);
        Assert.That(engine.Errors.Select(e => e.Code), Is.EqualTo(new[] { expectedCode }));
        Assert.That(engine.Errors[0].File, Is.EqualTo(host.PipelineFile));
    }

    [Test]
    public void VariableWithoutEqualsSignIsRejectedBeforeStarting()
    {
        using var host = new FakeCliHost(0, ["ok"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        task.Variables = "steps=3;oops";

        Assert.That(task.Execute(), Is.False);
        Assert.That(host.WasStarted, Is.False);
        Assert.That(engine.Errors.Single().Code, Is.EqualTo("LMOE4010"));
        Assert.That(engine.Errors.Single().Message, Does.Contain("'oops'"));
    }

    [Test]
    public void SummaryLineSetsTheOutputsAndAnUpToDateRunSaysSo()
    {
        using var host = new FakeCliHost(0, ["[split] up to date: sha256:ab", "tiny-moe: 0 stage(s) ran, 4 up to date; artifacts in /r/artifacts/tiny-moe"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);

        Assert.That(task.Execute(), Is.True);
        Assert.That((task.PipelineName, task.StagesRun, task.UpToDate, task.PublishedDirectory), Is.EqualTo(("tiny-moe", 0, true, "/r/artifacts/tiny-moe")));
        Assert.That(engine.HighMessages, Does.Contain("llama-moe: pipeline tiny-moe is up to date; no stage ran."));
    }

    [Test]
    public void RunThatExecutedStagesIsNotUpToDate()
    {
        using var host = new FakeCliHost(0, ["tiny-moe: 2 stage(s) ran, 2 up to date; artifacts in /r/artifacts/tiny-moe"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);

        Assert.That(task.Execute(), Is.True);
        Assert.That((task.StagesRun, task.UpToDate), Is.EqualTo((2, false)));
        Assert.That(engine.HighMessages, Has.None.Contains("is up to date"));
    }

    [Test]
    public void DesignTimeBuildStartsNothingAndSucceeds()
    {
        using var host = new FakeCliHost(1, ["/r/recipe.yaml(1,1): error LMOE0001: must not be seen"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        task.DesignTimeBuild = true;
        task.CliPath = "/nonexistent/llama-moe.dll";

        Assert.That(task.Execute(), Is.True);
        Assert.That(host.WasStarted, Is.False);
        Assert.That(engine.Errors, Is.Empty);
        Assert.That(engine.Messages.Where(m => m.Importance != MessageImportance.Low), Is.Empty);
    }

    [Test]
    public void MissingCliIsReportedWithoutStartingAProcess()
    {
        using var host = new FakeCliHost(0, ["ok"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        task.CliPath = "/nonexistent/llama-moe.dll";

        Assert.That(task.Execute(), Is.False);
        Assert.That(host.WasStarted, Is.False);
        Assert.That(engine.Errors.Single().Code, Is.EqualTo("LMOE4001"));
        Assert.That(engine.Errors.Single().Message, Does.Contain("/nonexistent/llama-moe.dll"));
    }

    [Test]
    public void MissingPipelineFileIsReported()
    {
        using var host = new FakeCliHost(0, ["ok"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        task.PipelineFile = "/nonexistent/recipe.yaml";

        Assert.That(task.Execute(), Is.False);
        Assert.That(engine.Errors.Single().Code, Is.EqualTo("LMOE4006"));
    }

    [TestCase("auto", true)]
    [TestCase("cpu", true)]
    [TestCase("cuda", true)]
    [TestCase("CPU", false)]
    [TestCase("gpu", false)]
    [TestCase("cuda:0", false)]
    public void DeviceMustBeAutoCpuOrCuda(string device, bool accepted)
    {
        using var host = new FakeCliHost(0, ["ok"]);
        var engine = new FakeBuildEngine();
        var task = host.CreateTask(engine);
        task.Device = device;

        Assert.That(task.Execute(), Is.EqualTo(accepted));
        Assert.That(engine.Errors.Select(e => e.Code), accepted ? Is.Empty : Is.EqualTo(new[] { "LMOE4007" }));
    }
}
