using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe generate</c>: prints the prompt and its continuation (and nothing else) on stdout.</summary>
public sealed class GenerateCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "generate";

    /// <inheritdoc />
    public string Summary => "Continue a prompt with a model (greedy or sampled).";

    /// <inheritdoc />
    public string Usage => "llama-moe generate <model-dir> --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S] " + ModelPlacement.Usage;

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var directory = arguments.ModelDirectory(0);
        var prompt = arguments.Option("prompt") ?? string.Empty;
        var options = new GenerationOptions(
            MaxNewTokens: arguments.Int("max-new-tokens", 64, minimum: 1),
            Temperature: arguments.Double("temperature", 0.0),
            TopP: arguments.Double("top-p", 1.0),
            TopK: arguments.Int("top-k", 0),
            Seed: arguments.Int("seed", 0));
        var placement = ModelPlacement.From(arguments);
        arguments.ThrowOnUnused();
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
