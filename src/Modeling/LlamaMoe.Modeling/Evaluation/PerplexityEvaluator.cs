using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Scores each sequence separately (no packing): every token after the first is predicted from its prefix. Sequences are
/// batched by similar length and right-padded; causal attention means padding never influences a real token, and padded
/// positions are left out of the sums, so batching does not change the result beyond float rounding. The token NLLs are
/// summed on the model's device into one float64 total that is read back once, after the last batch.
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>Evaluates <paramref name="sequences"/> (each including its BOS) in batches of at most <paramref name="maxBatchTokens"/> tokens.</summary>
    /// <param name="model">The model, on any device and in any dtype (the log-softmax runs in float32, the sums in float64).</param>
    /// <param name="sequences">The token ids; sequences shorter than 2 predict nothing and are skipped.</param>
    /// <param name="maxBatchTokens">Padded tokens per forward pass at most (a longer sequence goes alone).</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public static PerplexityResult Evaluate(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> sequences, int maxBatchTokens = 8192, CancellationToken cancellationToken = default)
    {
        var device = model.LmHeadWeight.device;
        var order = Enumerable.Range(0, sequences.Count).Where(i => sequences[i].Count >= 2).OrderBy(i => sequences[i].Count).ToList();
        var tokens = order.Sum(i => (long)sequences[i].Count - 1);
        using var noGrad = torch.no_grad();
        using var total = torch.zeros(1, ScalarType.Float64, device);                            // (1), summed on the device
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

            AddBatch(model, order.GetRange(start, end - start).Select(i => sequences[i]).ToList(), device, total);
            start = end;
        }

        var sum = total.cpu().item<double>();                                                    // the one read-back
        return new PerplexityResult(order.Count, tokens, sum);
    }

    // Adds the batch's summed token NLL to total (on the device, no host synchronisation).
    private static void AddBatch(LlamaForCausalLM model, List<IReadOnlyList<int>> batch, Device device, Tensor total)
    {
        using var scope = NewDisposeScope();
        var length = batch.Max(s => s.Count);
        var ids = new long[batch.Count * length];
        for (var b = 0; b < batch.Count; b++)
        {
            for (var t = 0; t < batch[b].Count; t++)
            {
                ids[(b * length) + t] = batch[b][t];
            }
        }

        var input = torch.tensor(ids, [batch.Count, length], device: device);                          // (B, T)
        var lengths = torch.tensor(batch.Select(s => (long)s.Count).ToArray(), device: device);         // (B)
        using var output = model.Forward(input);
        var logits = output.Logits.narrow(1, 0, length - 1).to_type(ScalarType.Float32);               // (B, T-1, V)
        var targets = input.narrow(1, 1, length - 1);                                                  // (B, T-1)
        var logProbs = nn.functional.log_softmax(logits, dim: -1);                                     // (B, T-1, V)
        var nll = -logProbs.gather(-1, targets.unsqueeze(-1)).squeeze(-1);                             // (B, T-1)
        var predicted = torch.arange(1, length, device: device).unsqueeze(0).lt(lengths.unsqueeze(1)); // (B, T-1) target t+1 is real
        var sum = nll.masked_fill(predicted.logical_not(), 0).to_type(ScalarType.Float64).sum();        // ()
        total.add_(sum);
    }
}
