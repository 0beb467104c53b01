namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Scores a continuation given a context: returns the summed log-probability of the continuation tokens and
/// whether greedy decoding would have produced exactly them. Ids are what the tokenizer produced (context first).
/// </summary>
public delegate (double LogProbability, bool IsGreedy) ContinuationScorer(IReadOnlyList<int> contextIds, IReadOnlyList<int> continuationIds);

/// <summary>One multiple-choice question as the log-likelihood harness sees it.</summary>
/// <param name="Context">The prompt (few-shot examples plus the question, ending before the answer).</param>
/// <param name="Continuations">The candidate continuations, each with its leading space (<c>" A"</c>).</param>
/// <param name="Gold">The index of the correct continuation.</param>
public sealed record MultipleChoiceQuestion(string Context, IReadOnlyList<string> Continuations, int Gold);

/// <summary>The score of a multiple-choice task.</summary>
/// <param name="Accuracy">acc: the fraction where the highest summed log-probability is the gold one.</param>
/// <param name="NormalizedAccuracy">acc_norm: the same with log-probabilities divided by the continuation's UTF-8 byte length.</param>
/// <param name="Count">The number of questions.</param>
/// <param name="Predictions">Per question, the (acc, acc_norm) choice.</param>
public sealed record MultipleChoiceResult(double Accuracy, double NormalizedAccuracy, int Count, IReadOnlyList<(int Raw, int Normalized)> Predictions);
