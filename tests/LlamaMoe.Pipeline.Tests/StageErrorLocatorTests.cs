using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class StageErrorLocatorTests
{
    private const string Yaml = """
        name: t
        stages:
          first:
            uses: test/write
            with: { text: a }
          second:
            uses: test/write
            needs: [first]
            with:
              text: b
              tags:
                - x
                - y
        """;

    [TestCase("tags[1]", 13, 11, TestName = "AWrittenListItemIsPlacedAtTheItem")]
    [TestCase("tags[5]", 12, 9, TestName = "AMissingListItemIsPlacedAtItsList")]
    [TestCase("text", 10, 13, TestName = "AWrittenOptionIsPlacedAtItsValue")]
    [TestCase("repeat", 10, 7, TestName = "ADefaultedOptionIsPlacedAtTheStageOptions")]
    [TestCase("needs", 8, 13, TestName = "NeedsIsPlacedAtTheFirstNeededStage")]
    public void ACodedStepErrorNamingAnOptionIsPlacedInThePipelineFile(string key, int line, int column)
    {
        using var fixture = new PipelineFixture(Yaml);
        var (stage, locations) = Bind(fixture, "second");
        var error = new LlamaMoeException("LMOE3999", "bad", key: key, advice: "fix it");
        var located = StageErrorLocator.Locate(error, stage, locations);
        Assert.That((located.FilePath, located.Line, located.Column), Is.EqualTo((fixture.PipelinePath, line, column)));
        Assert.That((located.Code, located.Message, located.Key, located.Advice), Is.EqualTo(("LMOE3999", "bad", key, "fix it")));
        Assert.That(located.InnerException, Is.SameAs(error));
    }

    [Test]
    public void ErrorsWithAFileOrAKeyThatIsNoOptionAreLeftAlone()
    {
        using var fixture = new PipelineFixture(Yaml);
        var (stage, locations) = Bind(fixture, "second");
        var modelKey = new LlamaMoeException("LMOE1210", "residual", key: "intermediate_size_residual");
        var withFile = new LlamaMoeException("LMOE1221", "tensor", "/models/x/config.json", key: "text");
        var noKey = new LlamaMoeException("LMOE3999", "no key");
        Assert.That(StageErrorLocator.Locate(modelKey, stage, locations), Is.SameAs(modelKey));
        Assert.That(StageErrorLocator.Locate(withFile, stage, locations), Is.SameAs(withFile));
        Assert.That(StageErrorLocator.Locate(noKey, stage, locations), Is.SameAs(noKey));
    }

    private static (ResolvedStage Stage, IReadOnlyDictionary<string, SourceLocation> Locations) Bind(PipelineFixture fixture, string stageId)
    {
        var pipeline = fixture.Load();
        var stage = pipeline.Stage(stageId);
        var diagnostics = new List<Diagnostic>();
        var (_, binder) = StageBinding.Bind(pipeline.Definition, stage, Environment.GetEnvironmentVariable, (_, _) => null, diagnostics);
        Assert.That(diagnostics, Is.Empty);
        return (stage, binder.Locations);
    }
}
