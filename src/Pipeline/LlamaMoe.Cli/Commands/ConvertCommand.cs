using System.CommandLine;
using System.Globalization;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Pipeline.Options;

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

    private readonly Argument<string> denseDirectory = CliOptions.Argument("dense-dir", "The dense LLaMA model directory.");
    private readonly Option<string> outDir = CliOptions.Path("--out", "The MoE model directory to write.", "DIR", required: true);
    private readonly Option<int> experts = CliOptions.Int("--experts", "Routed experts per MoE layer.", 8, minimum: 1, helpName: "E");
    private readonly Option<int> topK = CliOptions.Int("--top-k", "Experts each token is routed to.", 2, minimum: 1, helpName: "K");
    private readonly Option<string> split = CliOptions.Text("--split", "How the MLP neurons are split: " + string.Join(", ", ConstructionMethods.SplitNames) + " (the split-mlp/* steps).", "METHOD", required: true);
    private readonly Option<string> router = CliOptions.Text("--router", "How the routers are initialised: " + string.Join(", ", ConstructionMethods.RouterNames) + " (the router-init/* steps).", "METHOD");
    private readonly Option<string> calibrationFile = CliOptions.Path("--calibration", "Text to calibrate on (needed by the calibrated splits and routers).", "FILE");
    private readonly Option<string> calibrationFormat = CliOptions.Choice("--calibration-format", "How the calibration file is read.", "text", "text", "stories", "chat");
    private readonly Option<string> chatTemplate = CliOptions.Choice("--chat-template", "The chat template of chat calibration data.", "llama3", "llama3", "llama2", "plain");
    private readonly Option<int> calibrationSamples = CliOptions.Int("--calibration-samples", "Calibration sequences.", 256, minimum: 1);
    private readonly Option<int> calibrationMaxLength = CliOptions.Int("--calibration-max-length", "Tokens per calibration sequence at most.", 512, minimum: 1);
    private readonly Option<string> saveCalibration = CliOptions.Path("--save-calibration", "Keep the calibration statistics in DIR.", "DIR");
    private readonly Option<int> residual = CliOptions.Int("--residual", "Shares of m = I/(experts + N) kept in the always-on residual expert (split-mlp/* 'residual').", 0, minimum: 0);
    private readonly Option<int> contractFirst = CliOptions.Int("--contract-first", "Leave the first N layers dense.", 0, minimum: 0);
    private readonly Option<int> contractLast = CliOptions.Int("--contract-last", "Leave the last N layers dense.", 0, minimum: 0);
    private readonly Option<double?> scale = CliOptions.OptionalDouble("--scale", "Expert output scale factor (default: experts / top-k).", "S");
    private readonly Option<string> routing = CliOptions.Choice("--routing", "How router scores become weights (the names build-moe's routing-weights takes).", RoutingName(RoutingWeights.SoftmaxRenormalized),
        [.. Enum.GetValues<RoutingWeights>().Select(RoutingName)]);
    private readonly Option<int?> attentionExperts = CliOptions.OptionalInt("--attention-experts", "Also split attention into N GQA-group experts (LLaMA-MoE v2).", minimum: 1);
    private readonly Option<int?> attentionTopK = CliOptions.OptionalInt("--attention-top-k", "Attention experts per token.", minimum: 1, helpName: "K");
    private readonly Option<int?> attentionSplit = CliOptions.OptionalInt("--attention-split", "Attention experts per KV head (instead of --attention-experts).", minimum: 1, helpName: "F");
    private readonly Option<double?> attentionScale = CliOptions.OptionalDouble("--attention-scale", "Attention expert output scale.", "S");
    private readonly Option<int> seed = CliOptions.Int("--seed", "Construction seed: layer l is split and routed with seed × 1000003 + l, as the pipeline steps do.", 0, helpName: "S");
    private readonly Option<bool> force = CliOptions.Flag("--force", "Overwrite an existing output directory.");

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols =>
    [
        denseDirectory, outDir, experts, topK, split, router, calibrationFile, calibrationFormat, chatTemplate, calibrationSamples, calibrationMaxLength,
        saveCalibration, residual, contractFirst, contractLast, scale, routing, attentionExperts, attentionTopK, attentionSplit, attentionScale, seed, force,
    ];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var dense = CommandLinePaths.ModelDirectory(parse.GetRequiredValue(denseDirectory));
        var output = CommandLinePaths.OutputDirectory(parse.GetRequiredValue(outDir), "out");
        var options = new ConstructionOptions(
            Experts: parse.GetValue(experts),
            TopK: parse.GetValue(topK),
            Split: parse.GetRequiredValue(split),
            Router: parse.GetValue(router) ?? "random",
            ResidualExperts: parse.GetValue(residual),
            ContractFirst: parse.GetValue(contractFirst),
            ContractLast: parse.GetValue(contractLast),
            ScaleFactor: parse.GetValue(scale),
            Seed: parse.GetValue(seed),
            Weights: Enum.GetValues<RoutingWeights>().First(w => RoutingName(w) == parse.GetRequiredValue(routing)));
        var calibrationPath = parse.GetValue(calibrationFile);
        var format = parse.GetRequiredValue(calibrationFormat);
        var template = parse.GetRequiredValue(chatTemplate);
        var samples = parse.GetValue(calibrationSamples);
        var maxLength = parse.GetValue(calibrationMaxLength);
        var saveTo = parse.GetValue(saveCalibration);
        var overwrite = parse.GetValue(force);
        var attentionFlags = new AttentionFlags(parse.GetValue(attentionExperts), parse.GetValue(attentionTopK), parse.GetValue(attentionSplit), parse.GetValue(attentionScale));

        ConstructionPlanner.Check(options, hasCalibration: calibrationPath is not null);
        var attentionOptions = AttentionOptions(dense, attentionFlags);
        TorchRuntime.EnsureLoaded();
        using var calibration = Calibrate(dense, options, calibrationPath, format, template, samples, maxLength, cancellationToken);
        if (calibration is not null && saveTo is not null)
        {
            calibration.Save(saveTo);
        }

        var plans = ConstructionPlanner.Plan(dense, options, calibration);
        var attention = attentionOptions is null ? null : AttentionMoePlan.Create(DenseConfig(dense), attentionOptions, AttentionRouterInit.KaimingUniform, options.Seed);
        var config = MoeConverter.Convert(dense, output, plans, ConstructionPlanner.ConversionOptions(options, overwrite: overwrite), attention);
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

    // The one user-facing spelling of a routing-weights mode: the kebab-case name pipeline options use (softmax-renormalized).
    private static string RoutingName(RoutingWeights weights) => KebabCase.From(weights.ToString());

    private static LlamaConfig DenseConfig(string dense) => LlamaConfigJson.Read(Path.Combine(dense, ModelDirectory.ConfigFileName));

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
