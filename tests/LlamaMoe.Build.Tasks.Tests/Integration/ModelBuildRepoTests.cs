using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests.Integration;

/// <summary>
/// `dotnet build` of the sample model-build repository with the real CLI: the plugin project is built, the recipe runs,
/// the model is published; rebuilding is a no-op; edits rerun exactly the stale stages; YAML mistakes are build errors.
/// One copy of the repository is built once; a test that edits the recipe restores it and, when its build published
/// something, builds again (content keys make that a no-op that republishes the original views), so the tests do not
/// depend on their order.
/// </summary>
[Category("Integration")]
[Platform(Exclude = "Win")]
[NonParallelizable]
public sealed class ModelBuildRepoTests
{
    private ModelBuildRepo repo = null!;
    private BuildResult firstBuild = null!;

    [OneTimeSetUp]
    public void BuildOnce()
    {
        repo = new ModelBuildRepo();
        firstBuild = repo.Build();
    }

    [OneTimeTearDown]
    public void Delete() => repo.Dispose();

    [Test]
    public void FirstBuildRunsEveryStageAndPublishesTheModel()
    {
        firstBuild.ShouldSucceed();

        Assert.That(firstBuild.Output, Does.Contain($"{SampleRecipe.PipelineName}: {SampleRecipe.Stages.Length} stage(s) ran, 0 up to date"));
        foreach (var (stage, file) in SampleRecipe.ExpectedFiles)
        {
            Assert.That(File.Exists(Path.Combine(repo.Published(stage), file)), Is.True, $"{stage}/{file} is published");
        }
    }

    [Test]
    public void SecondBuildRunsNoStageAndReportsThePipelineUpToDate()
    {
        firstBuild.ShouldSucceed();

        var second = repo.Build().ShouldSucceed();

        Assert.That(StartedStages(second), Is.Empty);
        Assert.That(second.Output, Does.Contain($"{SampleRecipe.PipelineName}: 0 stage(s) ran, {SampleRecipe.Stages.Length} up to date"));
        Assert.That(second.Output, Does.Contain($"llama-moe: pipeline {SampleRecipe.PipelineName} is up to date; no stage ran."));
    }

    [Test]
    public void ChangingAnOptionOfALaterStageRerunsThatStageAndWhatFollowsOnly()
    {
        firstBuild.ShouldSucceed();
        BuildResult edited;
        using (repo.EditRecipe(SampleRecipe.LateStageEdit.Find, SampleRecipe.LateStageEdit.Replace))
        {
            edited = repo.Build().ShouldSucceed();
        }

        // Back to the original recipe: every key is in the store, so nothing runs and the original views are republished.
        var restored = repo.Build().ShouldSucceed();

        Assert.That(StartedStages(edited), Is.EqualTo(SampleRecipe.LateStageEdit.Reruns));
        Assert.That(StartedStages(restored), Is.Empty);
    }

    [Test]
    public void YamlMistakeFailsTheBuildWithAnErrorAtItsFileLineAndColumn()
    {
        firstBuild.ShouldSucceed();
        BuildResult broken;
        string brokenText;
        using (repo.EditRecipe(SampleRecipe.Mistake.Find, SampleRecipe.Mistake.Replace))
        {
            brokenText = File.ReadAllText(repo.PathOf(SampleRecipe.File));
            broken = repo.Build();
        }

        var lines = brokenText.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains(SampleRecipe.Mistake.BadToken, StringComparison.Ordinal));
        var column = lines[line].IndexOf(SampleRecipe.Mistake.BadToken, StringComparison.Ordinal);
        Assert.That(broken.Succeeded, Is.False);
        Assert.That(broken.Output, Does.Contain($"{repo.PathOf(SampleRecipe.File)}({line + 1},{column + 1}): error {SampleRecipe.Mistake.Code}:"));
        Assert.That(broken.Output, Does.Not.Contain("LMOE4002"), "the CLI's diagnostic is reported, not a generic exit-code error");
    }

    [Test]
    public void CustomSplitterProjectIsBuiltFirstAndItsSplitIsPublished()
    {
        firstBuild.ShouldSucceed();
        var (splitStage, modelStage, experts, descending) = SampleRecipe.CustomSplit;

        Assert.That(File.Exists(repo.PathOf("plugins", "SnakeSplitter", "bin", "Release", "net10.0", "SnakeSplitter.dll")), Is.True);
        Assert.That(firstBuild.Output, Does.Match(@"plugins: loaded SnakeSplitter .* from .*/plugins/SnakeSplitter/bin/Release/net10\.0/SnakeSplitter\.dll"));
        var published = ReadPartition(Path.Combine(repo.Published(splitStage), "partition.json"));
        var expected = ExpectedSnakePartition(repo.Published(modelStage), experts, descending);
        Assert.That(published, Is.EqualTo(expected));
    }

    private static List<string> StartedStages(BuildResult result) =>
        Regex.Matches(result.Output, @"^\s*\[(?<stage>[^\]]+)\] start \(", RegexOptions.Multiline).Select(m => m.Groups["stage"].Value).ToList();

    private static List<List<List<int>>> ReadPartition(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("layers").EnumerateArray()
            .Select(layer => layer.GetProperty("experts").EnumerateArray().Select(e => e.EnumerateArray().Select(n => n.GetInt32()).ToList()).ToList())
            .ToList();
    }

    // Independent oracle: norms of the columns of each layer's down_proj (H x I row-major) read straight from the published
    // safetensors file, sorted, dealt 0..E-1, E-1..0, ...
    private static List<List<List<int>>> ExpectedSnakePartition(string modelDirectory, int experts, bool descending)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(modelDirectory, "config.json")));
        var layers = config.RootElement.GetProperty("num_hidden_layers").GetInt32();
        var result = new List<List<List<int>>>();
        for (var layer = 0; layer < layers; layer++)
        {
            var (down, hidden, intermediate) = ReadMatrix(Path.Combine(modelDirectory, "model.safetensors"), $"model.layers.{layer}.mlp.down_proj.weight");
            var norms = Enumerable.Range(0, intermediate)
                .Select(i => Math.Sqrt(Enumerable.Range(0, hidden).Sum(h => (double)down[(h * intermediate) + i] * down[(h * intermediate) + i])))
                .ToArray();
            var order = Enumerable.Range(0, intermediate).OrderBy(i => descending ? -norms[i] : norms[i]).ThenBy(i => i).ToList();
            var assignment = Enumerable.Range(0, experts).Select(_ => new List<int>()).ToList();
            for (var rank = 0; rank < order.Count; rank++)
            {
                var lap = rank / experts;
                var slot = rank % experts;
                assignment[lap % 2 == 0 ? slot : experts - 1 - slot].Add(order[rank]);
            }

            result.Add(assignment.Select(a => a.Order().ToList()).ToList());
        }

        return result;
    }

    // safetensors: u64 little-endian header length, JSON header { name: { dtype, shape, data_offsets } }, then the data.
    private static (float[] Values, int Rows, int Columns) ReadMatrix(string file, string name)
    {
        var bytes = File.ReadAllBytes(file);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var entry = header.RootElement.GetProperty(name);
        var shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var begin = 8 + headerLength + entry.GetProperty("data_offsets")[0].GetInt32();
        var count = shape[0] * shape[1];
        var values = entry.GetProperty("dtype").GetString() switch
        {
            "F32" => MemoryMarshal.Cast<byte, float>(bytes.AsSpan(begin, count * 4)).ToArray(),
            "BF16" => MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan(begin, count * 2)).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray(),
            var other => throw new InvalidDataException($"{name}: unexpected dtype {other}"),
        };
        return (values, shape[0], shape[1]);
    }
}
