namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Greedy text generation: continues <paramref name="prompt"/> by at most <paramref name="maxNewTokens"/> tokens and
/// returns only the new text, cut before the first stop sequence.
/// </summary>
public delegate string CompletionGenerator(string prompt, int maxNewTokens, IReadOnlyList<string> stopSequences);

/// <summary>One completion to generate.</summary>
/// <param name="Prompt">The prompt text.</param>
/// <param name="MaxNewTokens">Tokens to generate at most.</param>
/// <param name="StopSequences">Generation may stop once the new text contains one of these; the text is cut before the first.</param>
public sealed record CompletionRequest(string Prompt, int MaxNewTokens, IReadOnlyList<string> StopSequences);

/// <summary>
/// Greedy completions of many prompts at once (a model generates them in batches): one new text per request, in request
/// order, each cut before its first stop sequence.
/// </summary>
public delegate IReadOnlyList<string> BatchCompletionGenerator(IReadOnlyList<CompletionRequest> requests);

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

    /// <summary>A batch generator that calls <paramref name="generate"/> once per request.</summary>
    public static BatchCompletionGenerator OneByOne(CompletionGenerator generate) =>
        requests => requests.Select(r => CutAtStop(generate(r.Prompt, r.MaxNewTokens, r.StopSequences), r.StopSequences)).ToList();

    /// <summary>
    /// A per-prompt stop test for generation: true once the decoded new ids of prompt <c>i</c> contain one of
    /// <paramref name="stopsPerPrompt"/>[i]. Stopping there leaves <see cref="CutAtStop"/>'s result unchanged, since the
    /// text decoded so far is a prefix of the text a longer generation decodes to.
    /// </summary>
    public static Func<int, IReadOnlyList<int>, bool> StopWhenTextContains(Func<IReadOnlyList<int>, string> decode, IReadOnlyList<IReadOnlyList<string>> stopsPerPrompt) =>
        (index, ids) =>
        {
            var stops = stopsPerPrompt[index];
            if (stops.Count == 0)
            {
                return false;
            }

            var text = decode(ids);
            return stops.Any(stop => text.Contains(stop, StringComparison.Ordinal));
        };
}
