using System.Diagnostics;
using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Generation;

/// <summary>
/// Generates continuations of many prompts at once with a KV cache. Prompts are sorted by length and cut into batches of
/// <see cref="BatchedGenerationOptions.BatchSize"/>; each batch is left-padded, with an attention mask that hides the
/// padding and per-row position ids that start at 0 on each prompt's first real token, so every row computes what it
/// would compute alone (up to float rounding). One prefill pass, then one forward pass per step for the whole batch;
/// the next tokens are picked on the device and the host reads back only the <c>(B)</c> new ids per step. Rows stop on
/// their own (stop token, <see cref="BatchedGenerationOptions.StopWhen"/>, token budget, model context); finished rows
/// are fed padding until the whole batch is done.
/// </summary>
/// <remarks>
/// Greedy results equal <see cref="TextGenerator"/>'s for each prompt; sampled results draw per prompt from
/// <see cref="GenerationOptions.Seed"/> as <see cref="TextGenerator"/> does. With dynamic-NTK RoPE scaling the scaling
/// depends on the longest position in the batch, so batched and single results can differ beyond the original context.
/// </remarks>
public static class BatchedGenerator
{
    /// <summary>Generates a continuation of each of <paramref name="prompts"/> (token ids, typically starting with BOS).</summary>
    /// <param name="model">The model (dense or MoE), on any device and in any dtype; it is not switched to evaluation mode here.</param>
    /// <param name="prompts">The prompts; each needs at least one token.</param>
    /// <param name="options">Decoding and batching settings.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>The new ids of each prompt, in prompt order, and the timing.</returns>
    /// <exception cref="LlamaMoeException">LMOE3801 for out-of-range options; LMOE3802 for an empty prompt.</exception>
    public static BatchedGenerationResult Generate(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, BatchedGenerationOptions options,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (prompts.Any(p => p.Count == 0))
        {
            throw new LlamaMoeException(GenerationErrorCodes.EmptyPrompt, "generation needs at least one prompt token (for example BOS)");
        }

        var results = new GeneratedSequence[prompts.Count];
        var order = Enumerable.Range(0, prompts.Count).OrderByDescending(i => prompts[i].Count).ThenBy(i => i).ToList();
        var timing = new GenerationTiming(TimeSpan.Zero, TimeSpan.Zero, 0, 0, 0, 0);
        using var noGrad = torch.no_grad();
        for (var start = 0; start < order.Count; start += options.BatchSize)
        {
            var rows = order.GetRange(start, Math.Min(options.BatchSize, order.Count - start));
            var batch = new GenerationBatch(model, rows, rows.Select(i => prompts[i]).ToList(), options);
            var (sequences, batchTiming) = batch.Run(cancellationToken);
            for (var r = 0; r < rows.Count; r++)
            {
                results[rows[r]] = sequences[r];
            }

            timing = timing with
            {
                Prefill = timing.Prefill + batchTiming.Prefill,
                Decode = timing.Decode + batchTiming.Decode,
                PromptTokens = timing.PromptTokens + batchTiming.PromptTokens,
                GeneratedTokens = timing.GeneratedTokens + batchTiming.GeneratedTokens,
                Batches = timing.Batches + 1,
                Steps = timing.Steps + batchTiming.Steps,
            };
        }

        return new BatchedGenerationResult(results, timing);
    }

    /// <summary>Greedy or sampled continuations of <paramref name="prompts"/> (the new ids only), in prompt order.</summary>
    public static IReadOnlyList<IReadOnlyList<int>> GenerateTokens(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, BatchedGenerationOptions options,
        CancellationToken cancellationToken = default) =>
        Generate(model, prompts, options, cancellationToken).Sequences.Select(s => s.Tokens).ToList();
}
