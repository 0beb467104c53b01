using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Scores each sequence separately (no packing): every token after the first is predicted from its prefix. Sequences are
/// batched by similar length and right-padded; causal attention means padding never influences a real token, and padded
/// positions are left out of the sums, so batching does not change the result beyond float rounding.
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>Evaluates <paramref name="sequences"/> (each including its BOS) in batches of at most <paramref name="maxBatchTokens"/> tokens.</summary>
    public static PerplexityResult Evaluate(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> sequences, int maxBatchTokens = 8192, CancellationToken cancellationToken = default)
    {
        var device = model.LmHeadWeight.device;
        var order = Enumerable.Range(0, sequences.Count).Where(i => sequences[i].Count >= 2).OrderBy(i => sequences[i].Count).ToList();
        double total = 0;
        long tokens = 0;
        using var noGrad = torch.no_grad();
        var start = 0;
        while (start < order.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var longest = sequences[order[start]].Count;
            var end = start;
            while (end < order.Count && (end - start + 1) * (long)Math.Max(longest, sequences[order[end]].Count) <= Math.Max(maxBatchTokens, longest))
            {
                longest = Math.Max(longest, sequences[order[end]].Count);
                end++;
            }

            var batch = order.GetRange(start, end - start).Select(i => sequences[i]).ToList();
            var (sum, count) = ScoreBatch(model, batch, device);
            total += sum;
            tokens += count;
            start = end;
        }

        return new PerplexityResult(order.Count, tokens, total);
    }

    private static (double Sum, long Count) ScoreBatch(LlamaForCausalLM model, List<IReadOnlyList<int>> batch, Device device)
    {
        using var scope = NewDisposeScope();
        var length = batch.Max(s => s.Count);
        var ids = new long[batch.Count * length];
        var valid = new bool[batch.Count * (length - 1)];
        for (var b = 0; b < batch.Count; b++)
        {
            for (var t = 0; t < batch[b].Count; t++)
            {
                ids[(b * length) + t] = batch[b][t];
                if (t > 0)
                {
                    valid[(b * (length - 1)) + t - 1] = true;
                }
            }
        }

        var input = torch.tensor(ids, [batch.Count, length], device: device);                  // (B, T)
        using var output = model.Forward(input);
        var logits = output.Logits.narrow(1, 0, length - 1).to_type(ScalarType.Float32);       // (B, T-1, V)
        var targets = input.narrow(1, 1, length - 1);                                          // (B, T-1)
        var logProbs = nn.functional.log_softmax(logits, dim: -1);                             // (B, T-1, V)
        var nll = -logProbs.gather(-1, targets.unsqueeze(-1)).squeeze(-1);                     // (B, T-1)
        var mask = torch.tensor(valid, [batch.Count, length - 1], device: device);             // (B, T-1)
        var sum = nll.masked_select(mask).to_type(ScalarType.Float64).sum().item<double>();
        return (sum, valid.LongCount(v => v));
    }
}
