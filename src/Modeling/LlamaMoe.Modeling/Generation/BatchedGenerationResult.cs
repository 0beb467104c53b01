namespace LlamaMoe.Modeling.Generation;

/// <summary>Why the generation of one prompt ended.</summary>
public enum GenerationFinishReason
{
    /// <summary>It produced one of <see cref="GenerationOptions.StopTokenIds"/> (kept as its last token).</summary>
    StopToken,

    /// <summary><see cref="BatchedGenerationOptions.StopWhen"/> returned true.</summary>
    StopCondition,

    /// <summary>It generated <see cref="GenerationOptions.MaxNewTokens"/> tokens.</summary>
    MaxTokens,

    /// <summary>The prompt and its continuation filled the model's <c>max_position_embeddings</c>.</summary>
    ContextFull,
}

/// <summary>The continuation of one prompt.</summary>
/// <param name="Tokens">The new ids only (without the prompt).</param>
/// <param name="FinishReason">Why it ended.</param>
public sealed record GeneratedSequence(IReadOnlyList<int> Tokens, GenerationFinishReason FinishReason);

/// <summary>Where the time of a <see cref="BatchedGenerator"/> call went.</summary>
/// <param name="Prefill">Prompt passes up to the first generated token of each batch (included).</param>
/// <param name="Decode">One-token steps after that.</param>
/// <param name="PromptTokens">Prompt tokens processed, without padding.</param>
/// <param name="GeneratedTokens">Tokens returned, over all prompts.</param>
/// <param name="Batches">Batches run.</param>
/// <param name="Steps">Forward passes run (prefills and one-token steps).</param>
public sealed record GenerationTiming(TimeSpan Prefill, TimeSpan Decode, long PromptTokens, long GeneratedTokens, int Batches, int Steps)
{
    /// <summary>Prefill plus decode.</summary>
    public TimeSpan Total => Prefill + Decode;

    /// <summary>Generated tokens per second of <see cref="Total"/>.</summary>
    public double TokensPerSecond => Total > TimeSpan.Zero ? GeneratedTokens / Total.TotalSeconds : 0;
}

/// <summary>The result of <see cref="BatchedGenerator.Generate"/>.</summary>
/// <param name="Sequences">One continuation per prompt, in prompt order.</param>
/// <param name="Timing">Where the time went (wall clock, synchronised with the device by the per-step read-back).</param>
public sealed record BatchedGenerationResult(IReadOnlyList<GeneratedSequence> Sequences, GenerationTiming Timing);
