using System.Text.RegularExpressions;
using LlamaMoe.Build.Tasks.Tests.Integration;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests.Packaging;

/// <summary>
/// The packaged flow end to end, as a new user takes it (issue 16): pack into a local feed, `dotnet new llamamoe-repo
/// --feed FEED` in a folder outside the checkout, `dotnet build` (the LlamaMoe.Cli tool restored by LlamaMoe.Build, the
/// plugin built from source, the pipeline run, the trained model published), a second build that runs nothing, an edit of
/// a late stage's option that reruns only that stage and what follows, and `dotnet clean`. Run it alone with
/// <c>dotnet test tests/LlamaMoe.Build.Tasks.Tests -c Release --no-build --filter TestCategory=Packaging</c> after a Release
/// build of the solution.
/// </summary>
[Category("Packaging")]
[Platform(Exclude = "Win")]
[NonParallelizable]
public sealed class PackagedFlowTests
{
    private PackagedRepository repo = null!;
    private BuildResult pack = null!;
    private BuildResult created = null!;
    private BuildResult firstBuild = null!;

    [OneTimeSetUp]
    public void PackCreateAndBuild()
    {
        repo = new PackagedRepository();
        pack = repo.Pack();
        created = pack.Succeeded ? repo.CreateFromTemplate() : pack;
        firstBuild = created.Succeeded ? repo.Build() : created;
    }

    [OneTimeTearDown]
    public void Delete() => repo.Dispose();

    [Test]
    [Order(1)]
    public void PackMakesEveryPackageWithItsSymbolsInOneCommand()
    {
        pack.ShouldSucceed();

        foreach (var id in PackagedRepository.PackageIds)
        {
            Assert.That(File.Exists(Path.Combine(repo.Feed, $"{id}.{repo.Version}.nupkg")), Is.True, $"{id} {repo.Version} is in the feed");
        }

        foreach (var id in new[] { "LlamaMoe.Cli", "LlamaMoe.Core", "LlamaMoe.Pipeline.Abstractions", "LlamaMoe.Pipeline" })
        {
            Assert.That(File.Exists(Path.Combine(repo.Feed, $"{id}.{repo.Version}.snupkg")), Is.True, $"{id} has a symbol package");
        }
    }

    [Test]
    [Order(2)]
    public void TheTemplateWritesANugetConfigThatPutsTheLocalFeedFirst()
    {
        created.ShouldSucceed();

        var config = File.ReadAllText(repo.PathOf("nuget.config"));
        Assert.That(config, Does.Contain($"value=\"{repo.Feed}\""));
        Assert.That(config.IndexOf(repo.Feed, StringComparison.Ordinal), Is.LessThan(config.IndexOf("api.nuget.org", StringComparison.Ordinal)));
        Assert.That(File.ReadAllText(repo.PathOf("Directory.Build.props")), Does.Contain($"<LlamaMoeVersion>{repo.Version}</LlamaMoeVersion>"));
    }

    [Test]
    [Order(3)]
    public void FirstBuildBuildsThePluginRunsThePipelineAndPublishesTheModel()
    {
        firstBuild.ShouldSucceed();

        Assert.That(File.Exists(repo.PathOf("plugins", $"{PackagedRepository.Name}.Splitter", "bin", "Release", "net10.0", $"{PackagedRepository.Name}.Splitter.dll")), Is.True);
        Assert.That(firstBuild.Output, Does.Contain($"{SampleRecipe.PipelineName}: {SampleRecipe.Stages.Length} stage(s) ran, 0 up to date"));
        foreach (var (stage, file) in SampleRecipe.ExpectedFiles)
        {
            Assert.That(File.Exists(Path.Combine(repo.Published(stage), file)), Is.True, $"{stage}/{file} is published");
        }
    }

    [Test]
    [Order(4)]
    public void SecondBuildRunsNothingAndSaysThePipelineIsUpToDate()
    {
        firstBuild.ShouldSucceed();

        var second = repo.Build("--no-restore").ShouldSucceed();

        Assert.That(StartedStages(second), Is.Empty);
        Assert.That(second.Output, Does.Contain($"llama-moe: pipeline {SampleRecipe.PipelineName} is up to date; no stage ran."));
        TestContext.Out.WriteLine($"no-op build of the template repository: {second.Elapsed.TotalSeconds:F1} s");
    }

    [Test]
    [Order(5)]
    public void EditingALateStageOptionRerunsThatStageAndItsFollowersOnly()
    {
        firstBuild.ShouldSucceed();
        repo.EditRecipe(SampleRecipe.LateStageEdit.Find, SampleRecipe.LateStageEdit.Replace);

        var edited = repo.Build("--no-restore").ShouldSucceed();

        Assert.That(StartedStages(edited), Is.EqualTo(SampleRecipe.LateStageEdit.Reruns));
    }

    [Test]
    [Order(6)]
    public void CleanRemovesThePublishedModel()
    {
        firstBuild.ShouldSucceed();

        repo.Clean().ShouldSucceed();

        Assert.That(Directory.Exists(repo.Published("tune")), Is.False);
        Assert.That(Directory.Exists(repo.PathOf("recipes", ".llamamoe")), Is.True, "the content store survives dotnet clean");
    }

    private static List<string> StartedStages(BuildResult result) =>
        Regex.Matches(result.Output, @"^\s*\[(?<stage>[^\]]+)\] start \(", RegexOptions.Multiline).Select(m => m.Groups["stage"].Value).ToList();
}
