using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>Adapts a model and its tokenizer to the evaluators' delegates: continuation scoring and greedy completion.</summary>
internal sealed class ModelScoring
{
    private readonly LlamaForCausalLM model;
    private readonly ITextTokenizer tokenizer;
    private readonly CancellationToken cancellationToken;

    public ModelScoring(LlamaForCausalLM model, ITextTokenizer tokenizer, CancellationToken cancellationToken)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.cancellationToken = cancellationToken;
    }

    /// <summary>Text to ids with the model's BOS.</summary>
    public int[] Encode(string text) => tokenizer.Encode(text, addBos: tokenizer.BosId is not null).ToArray();

    /// <summary>
    /// The summed log-probability of <paramref name="continuation"/> after <paramref name="context"/>, and whether it is the greedy
    /// continuation. The context is cut from the left so the whole fits the model's positions.
    /// </summary>
    public (double LogProbability, bool IsGreedy) Score(IReadOnlyList<int> context, IReadOnlyList<int> continuation)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var all = context.Concat(continuation).ToList();
        var keep = Math.Min(all.Count, model.Config.MaxPositionEmbeddings);
        var ids = all.Skip(all.Count - keep).Select(i => (long)i).ToArray();
        var input = tensor(ids, [1, ids.Length], device: model.LmHeadWeight.device);            // (1, T)
        using var output = model.Forward(input);
        var n = continuation.Count;
        var logits = output.Logits[0].narrow(0, ids.Length - n - 1, n).to_type(ScalarType.Float32); // (n, V)
        var logProbs = nn.functional.log_softmax(logits, dim: -1);                                 // (n, V)
        var targets = tensor(continuation.Select(i => (long)i).ToArray(), device: input.device);  // (n)
        var total = logProbs.gather(1, targets.unsqueeze(1)).sum().item<float>();
        var greedy = logProbs.argmax(1).eq(targets).all().item<bool>();
        return (total, greedy);
    }

    /// <summary>Greedy completion of <paramref name="prompt"/>, cut at the first stop sequence.</summary>
    public string Complete(string prompt, int maxNewTokens, IReadOnlyList<string> stopSequences)
    {
        var ids = Encode(prompt);
        var budget = Math.Max(1, Math.Min(maxNewTokens, model.Config.MaxPositionEmbeddings - 1));
        var keep = Math.Max(1, model.Config.MaxPositionEmbeddings - budget);
        var prompted = ids.Length > keep ? ids[^keep..] : ids;
        var stops = tokenizer.EosId is { } eos ? new[] { eos } : [];
        var generated = TextGenerator.Generate(model, prompted, new GenerationOptions(budget, StopTokenIds: stops), cancellationToken);
        return GenerationText.CutAtStop(tokenizer.Decode(generated), stopSequences);
    }
}
