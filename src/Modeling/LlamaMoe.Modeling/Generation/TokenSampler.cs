namespace LlamaMoe.Modeling.Generation;

/// <summary>Picks the next token from logits: greedy, or temperature sampling with top-k and top-p, from a seeded generator.</summary>
public sealed class TokenSampler(GenerationOptions options)
{
    private readonly Random random = new(options.Seed);

    /// <summary>Chooses a token id from one row of logits.</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (options.Temperature <= 0)
        {
            var best = 0;
            for (var i = 1; i < logits.Length; i++)
            {
                if (logits[i] > logits[best])
                {
                    best = i;
                }
            }

            return best;
        }

        var order = Enumerable.Range(0, logits.Length).ToArray();
        var values = logits.ToArray();
        Array.Sort(order, (a, b) => values[b].CompareTo(values[a]) is var c && c != 0 ? c : a.CompareTo(b)); // descending, stable by id
        var keep = options.TopK > 0 ? Math.Min(options.TopK, order.Length) : order.Length;
        var max = values[order[0]];
        var probabilities = new double[keep];
        var sum = 0.0;
        for (var i = 0; i < keep; i++)
        {
            probabilities[i] = Math.Exp((values[order[i]] - max) / options.Temperature);
            sum += probabilities[i];
        }

        if (options.TopP < 1)
        {
            var cumulative = 0.0;
            for (var i = 0; i < keep; i++)
            {
                cumulative += probabilities[i] / sum;
                if (cumulative >= options.TopP)
                {
                    keep = i + 1;
                    break;
                }
            }

            sum = probabilities.Take(keep).Sum();
        }

        var draw = random.NextDouble() * sum;
        for (var i = 0; i < keep; i++)
        {
            draw -= probabilities[i];
            if (draw < 0)
            {
                return order[i];
            }
        }

        return order[keep - 1];
    }
}
