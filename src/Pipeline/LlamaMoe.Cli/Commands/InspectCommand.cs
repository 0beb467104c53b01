using System.CommandLine;
using System.Globalization;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe inspect</c>: prints a model directory's architecture, parameter count, dtypes and tensors.</summary>
public sealed class InspectCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "inspect";

    /// <inheritdoc />
    public string Summary => "Show a model directory's architecture, parameter count, dtypes and tensors.";

    private readonly Argument<string> modelDirectory = CliOptions.Argument("model-dir", "The model directory (config.json, weights, tokenizer.model).");

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [modelDirectory];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var directory = CommandLinePaths.ModelDirectory(parse.GetRequiredValue(modelDirectory));
        var configPath = Path.Combine(directory, ModelDirectory.ConfigFileName);
        var modelType = ModelDirectory.ModelTypeOf(directory);
        var moe = CausalLanguageModelLoader.ReadMoeConfig(directory);
        var config = moe?.ToLlamaConfig() ?? LlamaConfigJson.Read(configPath);
        using var checkpoint = ShardedCheckpoint.Open(directory);
        var infos = checkpoint.Names.Select(checkpoint.Info).ToList();
        var parameters = infos.Sum(i => i.Shape.Aggregate(1L, (a, b) => a * b));
        var invariant = CultureInfo.InvariantCulture;
        Console.WriteLine(TerminalText.Escape(modelType == config.ModelType
            ? $"architecture  {config.ModelType} ({string.Join(", ", config.ExtraProperties.TryGetValue("architectures", out var a) && a is not null ? a.ToJsonString() : "LlamaForCausalLM")})"
            : $"architecture  {modelType} (read as {config.ModelType})"));
        Console.WriteLine($"layers        {config.NumHiddenLayers}");
        Console.WriteLine($"hidden        {config.HiddenSize} (intermediate {config.IntermediateSize})");
        Console.WriteLine($"heads         {config.NumAttentionHeads} query, {config.NumKeyValueHeads} key/value, head_dim {config.HeadDim}");
        Console.WriteLine($"vocab         {config.VocabSize}, tied embeddings {config.TieWordEmbeddings.ToString().ToLowerInvariant()}");
        Console.WriteLine($"rope          theta {config.RopeTheta.ToString(invariant)}{(config.RopeScaling is { } s ? $", scaling {s.Type} x{s.Factor.ToString(invariant)}" : string.Empty)}");
        Console.WriteLine($"parameters    {parameters.ToString("N0", invariant)}");
        if (moe is not null)
        {
            var (total, active) = MoeModelFactory.ParameterCounts(moe);
            var scales = string.Join(", ", moe.ScaleFactors.Distinct().Select(s => s.ToString(invariant)));
            Console.WriteLine($"experts       {moe.ExpertCount} routed, top-k {moe.TopK}, residual {moe.ResidualSize}, scale {scales}");
            Console.WriteLine($"router        {MoeRouterSpec.NetworkName(moe.Router.Network)}, {MoeRouterSpec.WeightsName(moe.Router.Weights)}{(moe.Router.Noisy ? ", noisy" : string.Empty)}");
            Console.WriteLine($"moe layers    [{string.Join(", ", moe.MoeLayers)}] of {config.NumHiddenLayers}; expert sizes [{string.Join("; ", moe.ExpertSizes.Select(s => string.Join(",", s)).Distinct())}]");
            Console.WriteLine($"active        {active.ToString("N0", invariant)} of {total.ToString("N0", invariant)} parameters per token ({(100.0 * active / total).ToString("F1", invariant)}%)");
        }

        Console.WriteLine($"dtypes        {string.Join(", ", infos.GroupBy(i => i.Dtype).Select(g => $"{g.Key} x{g.Count()}"))}");
        Console.WriteLine($"tensors       {infos.Count}");
        foreach (var info in infos)
        {
            Console.WriteLine($"  {TerminalText.Escape(info.Name),-52} {info.Dtype,-5} [{string.Join(", ", info.Shape)}]");
        }

        return ExitCodes.Success;
    }
}
