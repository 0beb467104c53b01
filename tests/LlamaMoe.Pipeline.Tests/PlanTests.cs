using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class PlanTests
{
    private PipelineFixture fixture = null!;

    [SetUp]
    public void SetUp()
    {
        fixture = new PipelineFixture(IncrementalRunTests.Chain);
        File.WriteAllText(fixture.File("input.txt"), "payload");
    }

    [TearDown]
    public void TearDown() => fixture.Dispose();

    [Test]
    public void WithoutAPreviousRunEveryStageRunsForThatReason()
    {
        var plan = fixture.Plan();
        Assert.That(plan.Select(p => p.Action), Is.All.EqualTo(PlanAction.Run));
        Assert.That(plan.Single(p => p.StageId == "a").Reasons, Is.EqualTo(new[] { "no previous run" }));
        Assert.That(plan.Single(p => p.StageId == "b").Reasons, Does.Contain("no previous run"));
    }

    [Test]
    public void APathInsideAnUpstreamOutputThatIsNotBuiltYetIsKnownAfterThatStageRuns()
    {
        // The quickstart's shape: a later stage reads a file inside an earlier stage's output folder. On a fresh store that
        // folder does not exist yet; plan must not report LMOE0056 for it, and must say why each stage runs.
        using var reading = new PipelineFixture(ReadsUpstreamFile);

        var plan = reading.Plan().ToDictionary(p => p.StageId);

        Assert.That(plan["a"].Action, Is.EqualTo(PlanAction.Run));
        Assert.That(plan["a"].Reasons, Is.EqualTo(new[] { "no previous run" }));
        Assert.That(plan["b"].Action, Is.EqualTo(PlanAction.Run));
        Assert.That(plan["b"].Reasons, Is.EqualTo(new[] { "input 'a' will be rebuilt", "no previous run" }));
    }

    [Test]
    public async Task APathInsideAnUpstreamOutputIsHashedOnceThatStageHasRun()
    {
        using var reading = new PipelineFixture(ReadsUpstreamFile);
        await reading.RunAsync();

        Assert.That(reading.Plan().Select(p => p.Action), Is.All.EqualTo(PlanAction.UpToDate));
        Assert.That(reading.ReadArtifact("b", "out.txt"), Is.EqualTo("b|abc|abc"));
    }

    [Test]
    public void AMissingPathOutsideAnyUpstreamOutputIsStillReported()
    {
        using var missing = new PipelineFixture(ReadsUpstreamFile.Replace("${stages.a.outputs.path}/out.txt", "nowhere.txt", StringComparison.Ordinal));

        var error = Assert.Throws<PipelineDiagnosticsException>(() => missing.Plan());

        Assert.That(error!.Diagnostics.Select(d => d.Code), Does.Contain("LMOE0056"));
    }

    private const string ReadsUpstreamFile = """
        name: t
        stages:
          a:
            uses: test/write
            with: { text: abc }
          b:
            uses: test/write
            needs: [a]
            with: { text: b, source: "${stages.a.outputs.path}/out.txt" }
        """;

    [Test]
    public async Task AfterARunNothingIsStale()
    {
        await fixture.RunAsync();
        Assert.That(fixture.Plan().Select(p => p.Action), Is.All.EqualTo(PlanAction.UpToDate));
    }

    [Test]
    public async Task NamesTheChangedOptionAndTheRebuiltInput()
    {
        await fixture.RunAsync();
        fixture.Write(IncrementalRunTests.Chain.Replace("text: abc", "text: xyz", StringComparison.Ordinal));
        var plan = fixture.Plan().ToDictionary(p => p.StageId);
        Assert.That(plan["a"].Reasons, Is.EqualTo(new[] { "option 'text' changed (\"abc\" → \"xyz\")" }));
        Assert.That(plan["b"].Action, Is.EqualTo(PlanAction.MayRun));
        Assert.That(plan["b"].Reasons, Is.EqualTo(new[] { "input 'a' will be rebuilt" }));
        Assert.That(plan["c"].Reasons, Is.EqualTo(new[] { "input 'b' will be rebuilt" }));
        Assert.That(plan["d"].Action, Is.EqualTo(PlanAction.UpToDate));
    }

    [Test]
    public async Task NamesAChangedInputFile()
    {
        await fixture.RunAsync();
        File.WriteAllText(fixture.File("input.txt"), "other");
        var plan = fixture.Plan().ToDictionary(p => p.StageId);
        Assert.That(plan["d"].Reasons, Is.EqualTo(new[] { "input file of option 'source' changed" }));
    }

    [Test]
    public async Task NamesAMissingArtifact()
    {
        await fixture.RunAsync();
        Directory.Delete(new DirectoryInfo(fixture.File("artifacts/t/d")).LinkTarget!, recursive: true);
        var plan = fixture.Plan().ToDictionary(p => p.StageId);
        Assert.That(plan["d"].Reasons, Is.EqualTo(new[] { "artifact missing" }));
        Assert.That(plan["a"].Action, Is.EqualTo(PlanAction.UpToDate));
    }

    [Test]
    public async Task NamesAChangedPluginVersionOrSeed()
    {
        await fixture.RunAsync();
        fixture.Write(IncrementalRunTests.Chain.Replace("name: t", "name: t\nseed: 7", StringComparison.Ordinal));
        var plan = fixture.Plan().ToDictionary(p => p.StageId);
        Assert.That(plan["a"].Reasons, Is.EqualTo(new[] { "seed changed (0 → 7)" }));
    }
}
