using System.Globalization;
using System.Text.Json;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe eval</c>: perplexity of a model on a text file (stories protocol or plain text).</summary>
public sealed class EvalCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "eval";

    /// <inheritdoc />
    public string Summary => "Evaluate a model (perplexity on a stories or text file).";

    /// <inheritdoc />
    public string Usage => "llama-moe eval <model-dir> --task perplexity --data FILE --format stories|text [--max-length N] [--json]";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var directory = arguments.Required(0, "the model directory");
        var task = arguments.Option("task") ?? "perplexity";
        var data = arguments.Option("data") ?? throw new CliUsageException("missing --data FILE");
        var format = arguments.Option("format") ?? "stories";
        var maxLength = arguments.Int("max-length", 512);
        var json = arguments.Flag("json");
        arguments.ThrowOnUnused();
        if (task != "perplexity")
        {
            throw new CliUsageException($"unknown task '{task}' (supported: perplexity)");
        }

        if (format is not ("stories" or "text"))
        {
            throw new CliUsageException($"unknown format '{format}' (supported: stories, text)");
        }

        if (!File.Exists(data))
        {
            throw new LlamaMoeException("LMOE3803", "the evaluation data file does not exist", data);
        }

        TorchRuntime.EnsureLoaded();
        var tokenizer = TokenizerLoader.Load(directory);
        using var model = CausalLanguageModelLoader.Load(directory);
        var text = File.ReadAllText(data);
        var sequences = format == "stories" ? EvaluationCorpus.Stories(text, tokenizer, maxLength) : EvaluationCorpus.PlainText(text, tokenizer, maxLength);
        var result = PerplexityEvaluator.Evaluate(model, sequences, cancellationToken: cancellationToken);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["task"] = task,
                ["format"] = format,
                ["sequences"] = result.Sequences,
                ["tokens"] = result.Tokens,
                ["mean_nll"] = result.MeanNll,
                ["perplexity"] = result.Perplexity,
            }));
        }
        else
        {
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine($"sequences   {result.Sequences}");
            Console.WriteLine($"tokens      {result.Tokens.ToString("N0", c)}");
            Console.WriteLine($"mean NLL    {result.MeanNll.ToString("F6", c)} nats/token");
            Console.WriteLine($"perplexity  {result.Perplexity.ToString("F4", c)}");
        }

        return ExitCodes.Success;
    }
}
