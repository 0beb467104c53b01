using LlamaMoe.Pipeline.Execution;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class IncrementalRunTests
{
    public const string Chain = """
        name: t
        stages:
          # c is first in the file but runs last: order in the file does not matter.
          c:
            uses: test/write
            needs: [b]
            with: { text: c }
          a:
            uses: test/write
            with: { text: abc }
          b:
            uses: test/length
            needs: [a]
          d:
            uses: test/write
            with: { text: d, source: input.txt }
        """;

    private PipelineFixture fixture = null!;

    [SetUp]
    public void SetUp()
    {
        fixture = new PipelineFixture(Chain);
        File.WriteAllText(fixture.File("input.txt"), "payload");
    }

    [TearDown]
    public void TearDown() => fixture.Dispose();

    [Test]
    public async Task FirstRunExecutesEveryStageInDependencyOrder()
    {
        var first = await fixture.RunAsync();
        Assert.That(first.Values, Is.All.EqualTo(StageStatus.Ran));
        Assert.That(fixture.ReadArtifact("c", "out.txt"), Is.EqualTo("c|3"));
        Assert.That(fixture.ReadArtifact("d", "out.txt"), Is.EqualTo("d|payload"));
    }

    [Test]
    public async Task SecondRunExecutesNoStage()
    {
        await fixture.RunAsync();
        var second = await fixture.RunAsync();
        Assert.That(second.Values, Is.All.EqualTo(StageStatus.UpToDate));
    }

    [Test]
    public async Task ChangingOneOptionRerunsThatStageAndItsDependantsOnly()
    {
        await fixture.RunAsync();
        fixture.Write(IncrementalRunTests.Chain.Replace("with: { text: abc }", "with: { text: abc, repeat: 2 }", StringComparison.Ordinal));
        var second = await fixture.RunAsync();
        Assert.That(second, Is.EquivalentTo(new Dictionary<string, StageStatus>
        {
            ["a"] = StageStatus.Ran, ["b"] = StageStatus.Ran, ["c"] = StageStatus.Ran, ["d"] = StageStatus.UpToDate,
        }));
        Assert.That(fixture.ReadArtifact("c", "out.txt"), Is.EqualTo("c|6"));
    }

    [Test]
    public async Task ChangingALeafOptionRerunsOnlyThatStage()
    {
        await fixture.RunAsync();
        fixture.Write(Chain.Replace("with: { text: c }", "with: { text: cc }", StringComparison.Ordinal));
        var second = await fixture.RunAsync();
        Assert.That(second.Where(s => s.Value == StageStatus.Ran).Select(s => s.Key), Is.EqualTo(new[] { "c" }));
    }

    [Test]
    public async Task EditingCommentsWhitespaceAndKeyStyleRerunsNothing()
    {
        await fixture.RunAsync();
        var edited = "# a new comment\n\n" + Chain
            .Replace("with: { text: abc }", "with:\n      text:   \"abc\"   # same value, block style", StringComparison.Ordinal)
            .Replace("needs: [b]", "needs:\n      - b", StringComparison.Ordinal);
        fixture.Write(edited);
        var second = await fixture.RunAsync();
        Assert.That(second.Values, Is.All.EqualTo(StageStatus.UpToDate));
    }

    [Test]
    public async Task TouchingAnInputFileTimestampRerunsNothing()
    {
        await fixture.RunAsync();
        File.SetLastWriteTimeUtc(fixture.File("input.txt"), DateTime.UtcNow.AddHours(1));
        var second = await fixture.RunAsync();
        Assert.That(second.Values, Is.All.EqualTo(StageStatus.UpToDate));
    }

    [Test]
    public async Task EditingAnInputFileRerunsTheStageThatReadsIt()
    {
        await fixture.RunAsync();
        File.WriteAllText(fixture.File("input.txt"), "changed");
        var second = await fixture.RunAsync();
        Assert.That(second.Where(s => s.Value == StageStatus.Ran).Select(s => s.Key), Is.EqualTo(new[] { "d" }));
        Assert.That(fixture.ReadArtifact("d", "out.txt"), Is.EqualTo("d|changed"));
    }

    [Test]
    public async Task DeletingOneArtifactRebuildsItAndRerunsTheStagesBuiltFromIt()
    {
        await fixture.RunAsync();
        var target = new DirectoryInfo(fixture.File("artifacts/t/b")).LinkTarget!;
        Directory.Delete(target, recursive: true);
        var second = await fixture.RunAsync();
        // c was built from the deleted object (perhaps deleted because it was bad), so it reruns; a and d do not.
        Assert.That(second.Where(s => s.Value == StageStatus.Ran).Select(s => s.Key), Is.EqualTo(new[] { "b", "c" }));
        Assert.That(fixture.ReadArtifact("b", "out.txt"), Is.EqualTo("3"));
    }

    [Test]
    public async Task AnUnchangedOutputStopsTheCascade()
    {
        await fixture.RunAsync();
        fixture.Write(Chain.Replace("text: abc", "text: xyz", StringComparison.Ordinal));
        var second = await fixture.RunAsync();
        Assert.That(second, Is.EquivalentTo(new Dictionary<string, StageStatus>
        {
            ["a"] = StageStatus.Ran, ["b"] = StageStatus.Ran, ["c"] = StageStatus.UpToDate, ["d"] = StageStatus.UpToDate,
        }));
    }

    [Test]
    public async Task ForceRerunsTheStageButEarlyCutOffKeepsItsDependants()
    {
        await fixture.RunAsync();
        var second = await fixture.RunAsync(force: new HashSet<string> { "a" });
        Assert.That(second.Where(s => s.Value == StageStatus.Ran).Select(s => s.Key), Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public async Task UntilRunsOnlyTheStageAndWhatItNeeds()
    {
        var run = await fixture.RunAsync(until: "b");
        Assert.That(run, Is.EquivalentTo(new Dictionary<string, StageStatus>
        {
            ["a"] = StageStatus.Ran, ["b"] = StageStatus.Ran, ["c"] = StageStatus.NotRequested, ["d"] = StageStatus.NotRequested,
        }));
    }

    [Test]
    public void UnknownStageInForceIsACodedError()
    {
        var ex = Assert.ThrowsAsync<Diagnostics.PipelineDiagnosticsException>(() => fixture.RunAsync(force: new HashSet<string> { "bb" }));
        Assert.That(ex!.Code, Is.EqualTo("LMOE0072"));
        Assert.That(ex.Advice, Does.Contain("'b'"));
    }

    [Test]
    public async Task StageOutputsAreInterpolatedIntoDependants()
    {
        fixture.Write("""
            name: t
            stages:
              a: { uses: test/write, with: { text: hello } }
              b:
                uses: test/write
                needs: [a]
                with: { text: "len=${stages.a.outputs.length}" }
            """);
        await fixture.RunAsync();
        Assert.That(fixture.ReadArtifact("b", "out.txt"), Is.EqualTo("len=5|hello"));
    }
}
