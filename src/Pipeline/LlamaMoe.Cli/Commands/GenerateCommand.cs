using System.CommandLine;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe generate</c>: prints the prompt and its continuation (and nothing else) on stdout.</summary>
public sealed class GenerateCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "generate";

    /// <inheritdoc />
    public string Summary => "Continue a prompt with a model (greedy or sampled).";

    private readonly Argument<string> modelDirectory = CliOptions.Argument("model-dir", "The model directory (config.json, weights, tokenizer.model).");
    private readonly Option<string> promptText = CliOptions.Text("--prompt", "The text to continue.", "TEXT");
    private readonly Option<int> maxNewTokens = CliOptions.Int("--max-new-tokens", "Tokens to generate at most.", 64, minimum: 1);
    private readonly Option<double> temperature = CliOptions.Double("--temperature", "Sampling temperature (0 = greedy).", 0.0, "T");
    private readonly Option<double> topP = CliOptions.Double("--top-p", "Nucleus sampling: keep the smallest set of tokens with this much probability.", 1.0, "P");
    private readonly Option<int> topK = CliOptions.Int("--top-k", "Keep the K most likely tokens (0 = all).", 0, minimum: 0, helpName: "K");
    private readonly Option<int> seed = CliOptions.Int("--seed", "Random seed for sampling.", 0, helpName: "S");
    private readonly Option<string> device = ModelPlacement.DeviceOption();
    private readonly Option<string> dtype = ModelPlacement.DtypeOption();

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [modelDirectory, promptText, maxNewTokens, temperature, topP, topK, seed, device, dtype];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var directory = CommandLinePaths.ModelDirectory(parse.GetRequiredValue(modelDirectory));
        var prompt = parse.GetValue(promptText) ?? string.Empty;
        var options = new GenerationOptions(
            MaxNewTokens: parse.GetValue(maxNewTokens),
            Temperature: parse.GetValue(temperature),
            TopP: parse.GetValue(topP),
            TopK: parse.GetValue(topK),
            Seed: parse.GetValue(seed));
        var placement = ModelPlacement.From(parse.GetValue(device), parse.GetValue(dtype));
        options.Validate();
        var tokenizer = TokenizerLoader.Load(directory);
        using var model = CausalLanguageModelLoader.Load(directory, placement.Device, placement.Dtype);
        var promptIds = tokenizer.Encode(prompt, addBos: true);
        var stops = model.Config.EosTokenIds.Concat(tokenizer.EosId is { } eos ? [eos] : []).Distinct().ToList();
        var generated = TextGenerator.Generate(model, promptIds, options with { StopTokenIds = stops }, cancellationToken);
        Console.WriteLine(TerminalText.EscapeText(tokenizer.Decode(promptIds.Concat(generated))));
        return ExitCodes.Success;
    }
}
