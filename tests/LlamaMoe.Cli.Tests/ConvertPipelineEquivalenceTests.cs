using System.Globalization;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Testing;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>
/// Issue 13's "one construction path": <c>llama-moe convert</c> (in-process, the code the CLI runs) and a pipeline of
/// <c>calibrate</c> / <c>split-mlp/*</c> / <c>router-init/*</c> / <c>build-moe</c> steps with the same options and seed
/// build byte-identical <c>model.safetensors</c> from stories260K, for every split and router method, with and
/// without a residual expert.
/// </summary>
[NonParallelizable]
public sealed class ConvertPipelineEquivalenceTests
{
    private const int Experts = 4;
    private const int TopK = 2;
    private const int Seed = 7;

    // A few calibration sequences (plain text cut into 48-token chunks) keep the calibrated methods fast.
    private const string CalibrationText =
        "Once upon a time there was a little girl named Lily. She liked to play in the park with her dog. " +
        "One day the sun was hot and the dog was tired, so they sat under a big tree and ate an apple. " +
        "Tom saw a red ball near the pond. He ran to get it, but the ball rolled into the water. " +
        "His mom came and helped him. They laughed and went home to eat soup and bread.";

    private TempDirectory temp = null!;
    private string dense = null!;
    private string calibration = null!;

    /// <summary>Every split method with and without a residual (random router), and the calibrated routers on two splits.</summary>
    public static IEnumerable<TestCaseData> Recipes()
    {
        foreach (var split in ConstructionMethods.SplitNames)
        {
            foreach (var residual in ConstructionMethods.Split(split).SupportsResidual ? new[] { 0, 1 } : [0])
            {
                yield return Recipe(split, "random", residual);
            }
        }

        foreach (var router in ConstructionMethods.RouterNames.Where(r => r != "random"))
        {
            yield return Recipe("random", router, 1);
            yield return Recipe("gradient", router, 0);
        }
    }

    [OneTimeSetUp]
    public void ImportTheDenseModel()
    {
        temp = new TempDirectory("convert-pipeline-equivalence");
        dense = temp.Combine("dense");
        TorchRuntime.EnsureLoaded();
        ModelImporter.Import(SharedData.Stories260KBin, dense, SharedData.Tok512Model);
        calibration = temp.Combine("calibration.txt");
        File.WriteAllText(calibration, CalibrationText);
    }

    [OneTimeTearDown]
    public void RemoveTheFolder() => temp.Dispose();

    [TestCaseSource(nameof(Recipes))]
    public async Task ConvertAndThePipelineBuildByteIdenticalWeights(string split, string router, int residual)
    {
        var name = $"{split}-{router}-r{residual}";
        var options = new ConstructionOptions(Experts, TopK, split, router, residual, Seed: Seed);

        var converted = temp.Combine("convert-" + name);
        var args = new List<string>
        {
            "convert", dense, "--out", converted, "--experts", Text(Experts), "--top-k", Text(TopK), "--split", split, "--router", router,
            "--residual", Text(residual), "--seed", Text(Seed),
        };
        if (options.NeedsCalibration)
        {
            args.AddRange(["--calibration", calibration, "--calibration-format", "text", "--calibration-max-length", "48"]);
        }

        Assert.That(new CliApplication().Run(args, CancellationToken.None), Is.EqualTo(ExitCodes.Success));

        var built = Path.Combine(await RunPipelineAsync(name, options), "moe");
        var convertedFiles = SafetensorsIn(converted);
        Assert.That(convertedFiles, Is.Not.Empty);
        Assert.That(SafetensorsIn(built).Select(Path.GetFileName), Is.EqualTo(convertedFiles.Select(Path.GetFileName)));
        foreach (var file in convertedFiles)
        {
            Assert.That(File.ReadAllBytes(Path.Combine(built, Path.GetFileName(file))), Is.EqualTo(File.ReadAllBytes(file)), $"{Path.GetFileName(file)} of {name}");
        }
    }

    private static TestCaseData Recipe(string split, string router, int residual) =>
        new TestCaseData(split, router, residual).SetName($"ConvertAndThePipelineBuildByteIdenticalWeights({split}, {router}, residual {residual})");

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string[] SafetensorsIn(string directory) => Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToArray();

    // The same recipe as a pipeline: the calibration (when convert calibrates) feeds the split and the router; the seed is the pipeline seed.
    private async Task<string> RunPipelineAsync(string name, ConstructionOptions options)
    {
        var folder = temp.Combine("pipeline-" + name);
        Directory.CreateDirectory(folder);
        var calibrated = options.NeedsCalibration;
        var needs = calibrated ? "needs: [calib]" : string.Empty;
        var calibrate = !calibrated ? string.Empty : $$"""
              calib:
                uses: calibrate
                with: { model: "{{dense}}", data: "{{calibration}}", format: text, max-length: 48, coactivation: {{Flag(options.NeedsCoactivation)}}, importance: {{Flag(options.NeedsCentroids)}}{{(options.NeedsCentroids ? $", experts: {Experts}" : string.Empty)}} }
            """;
        var residual = ConstructionMethods.Split(options.Split).SupportsResidual ? $", residual: {options.ResidualExperts}" : string.Empty;
        var routerModel = ConstructionMethods.Router(options.Router).NeedsCalibration ? string.Empty : $", model: \"{dense}\"";
        var yaml = $$"""
            name: same
            seed: {{Seed}}
            stages:
            {{calibrate}}
              split:
                uses: split-mlp/{{options.Split}}
                {{needs}}
                with: { model: "{{dense}}", experts: {{Experts}}{{residual}} }
              router:
                uses: router-init/{{options.Router}}
                {{(ConstructionMethods.Router(options.Router).NeedsCalibration ? needs : string.Empty)}}
                with: { experts: {{Experts}}{{routerModel}} }
              moe:
                uses: build-moe
                needs: [split, router]
                with: { model: "{{dense}}", top-k: {{TopK}} }
            """;
        var path = Path.Combine(folder, "pipeline.yaml");
        File.WriteAllText(path, yaml);
        var pipeline = PipelineLoader.Load(path, new PipelineLoadSettings()).EnsureValid();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new NullRunObserver()).BuildServiceProvider();
        var outcomes = await new PipelineRunner(pipeline, services).RunAsync();
        Assert.That(outcomes.Select(o => o.Status), Is.All.EqualTo(StageStatus.Ran), yaml);
        return Path.Combine(folder, "artifacts", pipeline.Definition.Name);
    }

    private static string Flag(bool value) => value ? "true" : "false";
}
