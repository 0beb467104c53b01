using System.Globalization;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Cli.Commands;

/// <summary>
/// <c>llama-moe convert</c>: builds a native MoE directory from a dense LLaMA directory (split the MLP neurons into
/// experts, initialise the routers, optionally calibrate first), streaming the weights layer by layer. The
/// <c>--attention-*</c> flags also split every layer's attention into GQA-group experts (LLaMA-MoE v2 attention-MoE).
/// </summary>
public sealed class ConvertCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "convert";

    /// <inheritdoc />
    public string Summary => "Convert a dense LLaMA directory into a native MoE directory (expert split + router init).";

    /// <inheritdoc />
    public string Usage =>
        "llama-moe convert <dense-dir> --out DIR --experts E --top-k K --split random|sequential|clustering|coactivation|gradient|sharing "
        + "[--router random|kmeans|tokens] [--calibration FILE] [--calibration-format text|stories|chat] [--chat-template llama3|llama2|plain] "
        + "[--calibration-samples N] [--calibration-max-length N] [--save-calibration DIR] [--residual N] [--contract-first N] [--contract-last N] "
        + "[--scale S] [--routing softmax_renormalized|softmax|softmax_over_topk|unit] "
        + "[--attention-experts N] [--attention-top-k K] [--attention-split F] [--attention-scale S] [--seed S] [--force]";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var dense = arguments.ModelDirectory(0);
        var output = arguments.OutputDirectory("out") ?? throw new CliUsageException("missing --out DIR");
        var scale = arguments.Option("scale");
        var options = new ConstructionOptions(
            Experts: arguments.Int("experts", 8),
            TopK: arguments.Int("top-k", 2),
            Split: arguments.Option("split") ?? throw new CliUsageException("missing --split METHOD"),
            Router: arguments.Option("router") ?? "random",
            ResidualExperts: arguments.Int("residual", 0),
            ContractFirst: arguments.Int("contract-first", 0),
            ContractLast: arguments.Int("contract-last", 0),
            ScaleFactor: scale is null ? null : double.Parse(scale, CultureInfo.InvariantCulture),
            Seed: arguments.Int("seed", 0),
            Weights: MoeRouterSpec.ParseWeights(arguments.Option("routing") ?? "softmax_renormalized"));
        var calibrationFile = arguments.Option("calibration");
        var calibrationFormat = arguments.Option("calibration-format") ?? "text";
        var chatTemplate = arguments.Option("chat-template") ?? "llama3";
        var samples = arguments.Int("calibration-samples", 256);
        var maxLength = arguments.Int("calibration-max-length", 512);
        var saveCalibration = arguments.Option("save-calibration");
        var force = arguments.Flag("force");
        var attentionFlags = new AttentionFlags(
            NullableInt(arguments, "attention-experts"),
            NullableInt(arguments, "attention-top-k"),
            NullableInt(arguments, "attention-split"),
            arguments.Option("attention-scale") is null ? null : arguments.Double("attention-scale", 1.0));
        arguments.ThrowOnUnused();

        ConstructionPlanner.Check(options, hasCalibration: calibrationFile is not null);
        var attentionOptions = AttentionOptions(dense, attentionFlags);
        TorchRuntime.EnsureLoaded();
        using var calibration = Calibrate(dense, options, calibrationFile, calibrationFormat, chatTemplate, samples, maxLength, cancellationToken);
        if (calibration is not null && saveCalibration is not null)
        {
            calibration.Save(saveCalibration);
        }

        var plans = ConstructionPlanner.Plan(dense, options, calibration);
        var attention = attentionOptions is null ? null : AttentionMoePlan.Create(DenseConfig(dense), attentionOptions, AttentionRouterInit.KaimingUniform, options.Seed);
        var config = MoeConverter.Convert(dense, output, plans, ConstructionPlanner.ConversionOptions(options, overwrite: force), attention);
        attention?.DisposeRouters();
        foreach (var plan in plans.Values)
        {
            plan.RouterWeight.Dispose();
        }

        var (total, active) = MoeModelFactory.ParameterCounts(config);
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(TerminalText.Escape($"wrote {output}: {config.MoeLayers.Count} MoE layers, {config.ExpertCount} experts, top-{config.TopK}, residual {config.ResidualSize}, scale {config.ScaleFactors[0].ToString(c)}"));
        if (attentionOptions is not null)
        {
            Console.WriteLine($"attention-MoE: {attentionOptions.NumExperts} experts (split {attentionOptions.Split}), top-{attentionOptions.TopK}, scale {attentionOptions.ScaleFactor.ToString(c)}, layers {string.Join(",", attentionOptions.Layers)}");
        }

        Console.WriteLine($"parameters {total.ToString("N0", c)} total, {active.ToString("N0", c)} active per token");
        return ExitCodes.Success;
    }

    // The attention-MoE options of the --attention-* flags, or null when neither --attention-experts nor --attention-split is given.
    private static AttentionMoeOptions? AttentionOptions(string dense, AttentionFlags flags)
    {
        if (flags.Experts is null && flags.Split is null)
        {
            if (flags.TopK is not null || flags.Scale is not null)
            {
                throw new LlamaMoeException(AttentionMoeErrors.BadCommandLine, "--attention-top-k and --attention-scale need --attention-experts (or --attention-split)",
                    key: "--attention-experts", advice: "Add --attention-experts N (the model's KV heads × split), or drop the attention flags.");
            }

            return null;
        }

        var config = DenseConfig(dense);
        var experts = flags.Experts ?? config.NumKeyValueHeads * flags.Split!.Value;
        return AttentionMoeConversion.OptionsFromCommandLine(config, experts, flags.TopK ?? AttentionMoeConversion.DefaultTopK(experts), flags.Split, flags.Scale);
    }

    private static LlamaConfig DenseConfig(string dense) => LlamaConfigJson.Read(Path.Combine(dense, ModelDirectory.ConfigFileName));

    private static int? NullableInt(CliArguments arguments, string name) => arguments.Option(name) is null ? null : arguments.Int(name, 0);

    private sealed record AttentionFlags(int? Experts, int? TopK, int? Split, double? Scale);

    private static CalibrationArtifact? Calibrate(string dense, ConstructionOptions options, string? file, string format, string template, int samples, int maxLength, CancellationToken cancellationToken)
    {
        if (ConstructionPlanner.CalibrationFor(options) is not { } calibrationOptions || file is null)
        {
            return null;
        }

        if (!File.Exists(file))
        {
            throw new LlamaMoeException(ConstructionErrorCodes.CalibrationDataEmpty, "the calibration file does not exist", file, advice: "Pass an existing --calibration FILE.");
        }

        var tokenizer = TokenizerLoader.Load(dense);
        var data = CalibrationCorpus.Load(file, format, tokenizer, template, maxLength, samples);
        using var model = LlamaForCausalLM.FromDirectory(dense);
        return Calibrator.Run(model, data, calibrationOptions, cancellationToken);
    }

}
