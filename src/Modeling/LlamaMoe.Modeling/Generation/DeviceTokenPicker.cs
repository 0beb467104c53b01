using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Generation;

/// <summary>
/// Picks the next token of every row on the logits' device: greedy argmax, or <see cref="TokenSampler"/>'s rule
/// (temperature, top-k, top-p over the logits sorted by value, ties by id) with one uniform draw per row taken from that
/// row's own host generator and uploaded as one small tensor, so a row draws what it would draw alone.
/// </summary>
internal sealed class DeviceTokenPicker
{
    private readonly GenerationOptions options;
    private readonly Random[] generators;

    /// <summary>Creates the picker for <paramref name="rows"/> rows, each with a generator seeded with the options' seed.</summary>
    public DeviceTokenPicker(GenerationOptions options, int rows)
    {
        this.options = options;
        generators = options.Temperature > 0 ? Enumerable.Range(0, rows).Select(_ => new Random(options.Seed)).ToArray() : [];
    }

    /// <summary>The next token ids <c>(B)</c> (int64, on the logits' device) from <paramref name="logits"/> <c>(B, V)</c>.</summary>
    /// <param name="logits">The last position's logits of every row.</param>
    /// <param name="active">Which rows still generate; only they consume a random draw.</param>
    public Tensor Next(Tensor logits, IReadOnlyList<bool> active)
    {
        if (options.Temperature <= 0)
        {
            return logits.argmax(-1);                                                        // (B)
        }

        using var scope = NewDisposeScope();
        var draws = new double[generators.Length];
        for (var row = 0; row < draws.Length; row++)
        {
            draws[row] = active[row] ? generators[row].NextDouble() : 0.0;
        }

        var (sorted, order) = logits.to_type(ScalarType.Float64).sort(-1, descending: true, stable: true); // (B, V) each
        var keep = options.TopK > 0 ? Math.Min(options.TopK, sorted.shape[1]) : sorted.shape[1];
        sorted = sorted.narrow(1, 0, keep);                                                  // (B, K)
        order = order.narrow(1, 0, keep);                                                    // (B, K)
        var weights = sorted.sub(sorted.narrow(1, 0, 1)).div(options.Temperature).exp();     // (B, K), unnormalised
        if (options.TopP < 1)
        {
            var cumulative = weights.cumsum(1).div(weights.sum(1, keepdim: true));           // (B, K)
            var before = cumulative.sub(weights.div(weights.sum(1, keepdim: true)));         // (B, K) mass of the better tokens
            weights = weights.mul(before.lt(options.TopP));                                  // (B, K), the nucleus only
        }

        var running = weights.cumsum(1);                                                     // (B, K)
        var uniform = torch.tensor(draws, device: logits.device, dtype: ScalarType.Float64).unsqueeze(1); // (B, 1)
        var target = uniform.mul(running.narrow(1, keep - 1, 1));                            // (B, 1)
        var kept = weights.gt(0).sum(1, keepdim: true);                                      // (B, 1)
        var index = running.le(target).sum(1, keepdim: true).minimum(kept.sub(1));           // (B, 1) first slot with running > target
        return order.gather(1, index).squeeze(1).MoveToOuterDisposeScope();                  // (B)
    }
}
