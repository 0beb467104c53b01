using System.Text;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Multiple-choice evaluation in the lm-evaluation-harness convention: each continuation is scored by the summed
/// log-probability of its tokens after the context; <c>acc</c> takes the argmax, <c>acc_norm</c> the argmax of the
/// log-probability divided by the continuation's byte length. Tokenisation follows the harness: the continuation's
/// ids are those of <c>encode(context + continuation)</c> after the first <c>len(encode(context))</c> ids.
/// Ties go to the first choice (argmax).
/// </summary>
public static class MultipleChoiceEvaluator
{
    /// <summary>Evaluates the questions.</summary>
    /// <param name="questions">The questions.</param>
    /// <param name="encode">The tokenizer (text → ids, with whatever BOS convention the model uses).</param>
    /// <param name="score">The model's continuation scorer.</param>
    public static MultipleChoiceResult Evaluate(IReadOnlyList<MultipleChoiceQuestion> questions, Func<string, int[]> encode, ContinuationScorer score)
    {
        var predictions = new List<(int, int)>();
        var (correct, correctNorm) = (0, 0);
        foreach (var question in questions)
        {
            var contextIds = encode(question.Context);
            var raw = new double[question.Continuations.Count];
            var normalized = new double[question.Continuations.Count];
            for (var c = 0; c < question.Continuations.Count; c++)
            {
                var continuation = question.Continuations[c];
                var whole = encode(question.Context + continuation);
                var split = SplitPoint(contextIds, whole);
                var (logProbability, _) = score(whole[..split], whole[split..]);
                raw[c] = logProbability;
                normalized[c] = logProbability / Math.Max(1, Encoding.UTF8.GetByteCount(continuation));
            }

            var (best, bestNorm) = (ArgMax(raw), ArgMax(normalized));
            correct += best == question.Gold ? 1 : 0;
            correctNorm += bestNorm == question.Gold ? 1 : 0;
            predictions.Add((best, bestNorm));
        }

        var n = Math.Max(1, questions.Count);
        return new MultipleChoiceResult((double)correct / n, (double)correctNorm / n, questions.Count, predictions);
    }

    private static int SplitPoint(int[] contextIds, int[] wholeIds)
    {
        // The harness takes len(context_enc); when the tokenizer merges across the boundary it keeps at least one token.
        var split = Math.Min(contextIds.Length, wholeIds.Length - 1);
        return Math.Max(0, split);
    }

    private static int ArgMax(double[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
