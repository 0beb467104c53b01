namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Greedy text generation: continues <paramref name="prompt"/> by at most <paramref name="maxNewTokens"/> tokens and
/// returns only the new text, cut before the first stop sequence.
/// </summary>
public delegate string CompletionGenerator(string prompt, int maxNewTokens, IReadOnlyList<string> stopSequences);

/// <summary>Generation helpers.</summary>
public static class GenerationText
{
    /// <summary>Cuts <paramref name="text"/> before the earliest stop sequence (generators may overshoot).</summary>
    public static string CutAtStop(string text, IReadOnlyList<string> stops)
    {
        var cut = text.Length;
        foreach (var stop in stops)
        {
            var index = text.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && index < cut)
            {
                cut = index;
            }
        }

        return text[..cut];
    }
}
