using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests.Integration;

/// <summary>The LlamaMoe.Build targets under real <c>dotnet build</c> runs, with a scripted stand-in for the CLI host.</summary>
[Category("Integration")]
[Platform(Exclude = "Win")]
[NonParallelizable]
public sealed class TargetsTests
{
    private TargetsProject project = null!;

    [OneTimeSetUp]
    public void CreateAndRestore()
    {
        project = new TargetsProject();
        project.Restore();
    }

    [OneTimeTearDown]
    public void Delete() => project.Dispose();

    [SetUp]
    public void Reset() => project.Reset();

    [Test]
    public void DefaultBuildRunsEveryPipelineThatIsNotOptIn()
    {
        var result = project.Build().ShouldSucceed();

        Assert.That(project.Invocations, Has.Count.EqualTo(1));
        Assert.That(project.Invocations[0], Does.Contain("run " + project.Path("recipes", "alpha.yaml")));
        Assert.That(result.Output, Does.Contain("[train] up to date: sha256:0123"), "CLI output streams into the build log");
        Assert.That(result.Output, Does.Contain("llama-moe: pipeline alpha is up to date; no stage ran."));
        Assert.That(File.Exists(project.Path("recipes", "artifacts", "alpha", "train", "model.txt")), Is.True);
    }

    [Test]
    public void PipelinesPropertySelectsByNameAndAllPipelinesSelectsEveryOne()
    {
        project.Build("-p:LlamaMoePipelines=beta.yaml").ShouldSucceed();
        project.Build("-p:LlamaMoeAllPipelines=true").ShouldSucceed();

        Assert.That(project.Invocations.Select(line => line.Contains("beta.yaml", StringComparison.Ordinal) ? "beta" : "alpha"),
            Is.EqualTo(new[] { "beta", "alpha", "beta" }));
    }

    [Test]
    public void UnknownPipelineNameFailsTheBuildListingTheKnownOnes()
    {
        var result = project.Build("-p:LlamaMoePipelines=gamma");

        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Output, Does.Contain("error LMOE4009: LlamaMoePipelines names gamma").And.Contain("Known: alpha, beta"));
        Assert.That(project.Invocations, Is.Empty);
    }

    [Test]
    public void CommandLineLeavesStoreAndArtifactsToTheCliByDefault()
    {
        project.Build().ShouldSucceed();

        Assert.That(project.Invocations.Single(), Does.EndWith($"run {project.Path("recipes", "alpha.yaml")}"));
    }

    [Test]
    public void CommandLineCarriesStoreDeviceForcedStagesAndVariablesAndArtifactsAreMirrored()
    {
        project.Build($"-p:LlamaMoeStoreDir={project.Root}/store", $"-p:LlamaMoeArtifactsDir={project.Root}/out", "-p:LlamaMoeDevice=cpu",
            "-p:LlamaMoeForceStage=split%3Btrain", "-p:LlamaMoeVars=steps=3%3Blr=0.01").ShouldSucceed();

        Assert.That(project.Invocations.Single(), Does.EndWith(
            $"run {project.Path("recipes", "alpha.yaml")} --store {project.Root}/store --device cpu "
            + "--force split --force train --var steps=3 --var lr=0.01"));
        Assert.That(File.Exists(project.Path("out", "alpha", "train", "model.txt")), Is.True, "mirrored into LlamaMoeArtifactsDir");
        Assert.That(File.ReadAllText(project.Path("out", "alpha", "train", "model.txt")), Is.EqualTo("done\n"));
        Assert.That(project.Clean().Succeeded, Is.True);
        Assert.That(Directory.Exists(project.Path("out", "alpha")), Is.False, "clean removes the mirror too");
    }

    [Test]
    public void InputStampIsRewrittenOnlyWhenThePipelineChanges()
    {
        project.Build().ShouldSucceed();
        var stamp = Directory.GetFiles(project.Root, "alpha.inputs.stamp", SearchOption.AllDirectories).Single();
        var firstText = File.ReadAllText(stamp);
        var firstWrite = File.GetLastWriteTimeUtc(stamp);

        project.Build().ShouldSucceed();
        var unchangedWrite = File.GetLastWriteTimeUtc(stamp);
        File.AppendAllText(project.Path("recipes", "alpha.yaml"), "# edited\n");
        project.Build().ShouldSucceed();

        Assert.That(unchangedWrite, Is.EqualTo(firstWrite), "an unchanged pipeline leaves the stamp untouched");
        Assert.That(File.ReadAllText(stamp), Is.Not.EqualTo(firstText), "an edited pipeline changes the stamp");
        Assert.That(firstText, Does.Contain("pipeline ").And.Contain("tool ").And.Contain("llama-moe.dll"));
        Assert.That(project.Invocations, Has.Count.EqualTo(3), "the CLI, not the stamp, decides what is stale");
    }

    // An IDE's design-time build sets DesignTimeBuild=true. (BuildingProject cannot be tested from the command line:
    // the Build target's BuildOnlySettings reassigns it to true even when it is a global property.)
    [TestCase("-p:DesignTimeBuild=true")]
    [TestCase("-p:LlamaMoeEnabled=false")]
    public void DesignTimeOrDisabledBuildRunsNoPipeline(string property)
    {
        project.Build(property).ShouldSucceed();

        Assert.That(project.Invocations, Is.Empty);
    }

    [Test]
    public void CliDiagnosticFailsTheBuildAtThePipelineFileLineAndColumn()
    {
        File.WriteAllText(project.Path("recipes", "alpha.yaml"), "name: alpha\nBROKEN\n");

        var result = project.Build();

        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Output, Does.Contain($"{project.Path("recipes", "alpha.yaml")}(2,3): error LMOE0042: the word BROKEN is not a stage"));
        Assert.That(result.Output, Does.Not.Contain("LMOE4002"), "the CLI's own diagnostic is the only error");
    }

    [Test]
    public void CleanRemovesPublishedArtifactsAndKeepsTheStoreUnlessAsked()
    {
        project.Build("-p:LlamaMoeAllPipelines=true").ShouldSucceed();
        Directory.CreateDirectory(project.Path("recipes", ".llamamoe", "objects"));
        Directory.CreateDirectory(project.Path("recipes", "artifacts", "not-ours"));

        project.Clean().ShouldSucceed();
        var storeKept = Directory.Exists(project.Path("recipes", ".llamamoe", "objects"));
        var publishedLeft = Directory.GetDirectories(project.Path("recipes", "artifacts")).Select(Path.GetFileName).ToList();
        project.Clean("-p:LlamaMoeCleanStore=true").ShouldSucceed();

        Assert.That(publishedLeft, Is.EqualTo(new[] { "not-ours" }), "both pipelines' published folders are removed, nothing else");
        Assert.That(storeKept, Is.True);
        Assert.That(Directory.Exists(project.Path("recipes", ".llamamoe")), Is.False);
        Assert.That(project.Invocations.Count(line => line.Contains(" clean ", StringComparison.Ordinal)), Is.EqualTo(2), "one llama-moe clean per pipeline");
    }

    [Test]
    public void AMissingCliOfTheGivenVersionIsRestoredThroughAToolManifestUnderObjOrFailsWithLmoe4011()
    {
        // The fake host records the `tool restore` call and restores nothing, so the CLI stays missing.
        var result = project.Build("-p:LlamaMoeCliPath=" + project.Path("no-such-tool", "llama-moe.dll"), "-p:LlamaMoeCliVersion=9.8.7-test");

        var manifest = Directory.GetFiles(project.Path("obj"), "dotnet-tools.json", SearchOption.AllDirectories).Single();
        Assert.That(manifest, Does.EndWith(Path.Combine("llamamoe", "cli", ".config", "dotnet-tools.json")));
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Output, Does.Contain("error LMOE4011"));
        Assert.That(project.Invocations, Has.Some.EqualTo($"tool restore --tool-manifest {manifest}"));
        Assert.That(File.ReadAllText(manifest), Does.Contain("\"llamamoe.cli\"").And.Contain("\"version\": \"9.8.7-test\""));
        Assert.That(project.Invocations.Where(line => line.StartsWith("exec ", StringComparison.Ordinal)), Is.Empty, "no pipeline runs without the CLI");
    }

    [Test]
    public void APresentCliIsNotRestoredAgain()
    {
        project.Build("-p:LlamaMoeCliVersion=9.8.7-test").ShouldSucceed();

        Assert.That(project.Invocations.Where(line => line.StartsWith("tool ", StringComparison.Ordinal)), Is.Empty);
    }
}
