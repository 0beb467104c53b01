using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Modeling.Generation;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>Adapts a model and its tokenizer to the evaluators' delegates: continuation scoring and batched greedy completion.</summary>
internal sealed class ModelScoring
{
    private readonly LlamaForCausalLM model;
    private readonly ITextTokenizer tokenizer;
    private readonly int generationBatchSize;
    private readonly CancellationToken cancellationToken;

    public ModelScoring(LlamaForCausalLM model, ITextTokenizer tokenizer, int generationBatchSize, CancellationToken cancellationToken)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.generationBatchSize = generationBatchSize;
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
        var total = logProbs.gather(1, targets.unsqueeze(1)).sum();                                 // ()
        var greedy = logProbs.argmax(1).eq(targets).all().to_type(total.dtype);                     // ()
        var both = stack([total, greedy]).cpu().data<float>().ToArray();                           // one read-back
        return (both[0], both[1] != 0);
    }

    /// <summary>
    /// Greedy completions of <paramref name="requests"/>, generated <see cref="generationBatchSize"/> prompts at a time; each
    /// row stops at EOS, its budget or once its text contains one of its stop sequences, and is cut before the first one.
    /// A prompt is cut from the left so that it and its budget fit the model's positions.
    /// </summary>
    public IReadOnlyList<string> CompleteAll(IReadOnlyList<CompletionRequest> requests)
    {
        var completions = new string[requests.Count];
        var stops = tokenizer.EosId is { } eos ? new[] { eos } : [];
        foreach (var group in Enumerable.Range(0, requests.Count).GroupBy(i => requests[i].MaxNewTokens))
        {
            var indices = group.ToList();
            var budget = Math.Max(1, Math.Min(group.Key, model.Config.MaxPositionEmbeddings - 1));
            var keep = Math.Max(1, model.Config.MaxPositionEmbeddings - budget);
            var prompts = indices.Select(i => Encode(requests[i].Prompt)).Select(ids => (IReadOnlyList<int>)(ids.Length > keep ? ids[^keep..] : ids)).ToList();
            var stopWhen = GenerationText.StopWhenTextContains(ids => tokenizer.Decode(ids), indices.Select(i => requests[i].StopSequences).ToList());
            var options = new BatchedGenerationOptions(new GenerationOptions(budget, StopTokenIds: stops), generationBatchSize, stopWhen);
            var result = BatchedGenerator.Generate(model, prompts, options, cancellationToken);
            for (var j = 0; j < indices.Count; j++)
            {
                var request = requests[indices[j]];
                completions[indices[j]] = GenerationText.CutAtStop(tokenizer.Decode(result.Sequences[j].Tokens), request.StopSequences);
            }
        }

        return completions;
    }
}
