namespace LlamaMoe.Modeling.Generation;

/// <summary>Settings of <see cref="BatchedGenerator"/>.</summary>
/// <param name="Decoding">
/// Per prompt: the token budget, greedy or sampled decoding and the stop token ids, as for <see cref="TextGenerator"/>.
/// Each prompt samples from its own generator seeded with <see cref="GenerationOptions.Seed"/>, so a prompt draws the same
/// numbers as when it is generated alone.
/// </param>
/// <param name="BatchSize">Prompts decoded together (one forward pass per step for all of them).</param>
/// <param name="StopWhen">
/// An extra per-prompt stop test, called on the host after each new token with the prompt's index and the ids generated
/// so far (for example "the decoded text contains a stop string"); null for none.
/// </param>
public sealed record BatchedGenerationOptions(GenerationOptions Decoding, int BatchSize = 16, Func<int, IReadOnlyList<int>, bool>? StopWhen = null)
{
    /// <summary>Checks the ranges; throws LMOE3801 when a value is out of range.</summary>
    public BatchedGenerationOptions Validate()
    {
        Decoding.Validate();
        if (BatchSize < 1)
        {
            throw new LlamaMoeException(GenerationErrorCodes.OptionsOutOfRange, "generation options out of range: need batch_size >= 1", advice: "Give a batch size of at least 1.");
        }

        return this;
    }
}
