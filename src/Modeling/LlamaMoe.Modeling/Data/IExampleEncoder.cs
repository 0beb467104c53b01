namespace LlamaMoe.Modeling.Data;

/// <summary>
/// Turns an example into token ids and a per-token loss mask; implemented by the tokenizer + chat template layer.
/// </summary>
public interface IExampleEncoder
{
    /// <summary>
    /// A stable identifier of the tokenizer, chat template and their settings (for example
    /// <c>sentencepiece:sha256-of-model/llama3-chat/bos</c>). It is part of the dataset cache key, so it must change
    /// whenever the produced ids or masks could change.
    /// </summary>
    string Id { get; }

    /// <summary>Encodes one example (chat or text).</summary>
    EncodedExample Encode(DataExample example);
}

/// <summary>
/// Token ids and their loss mask. <c>LossMask[i]</c> is true when token <c>i</c> is a training target, that is,
/// when the loss of predicting <c>Ids[i]</c> from <c>Ids[..i]</c> counts (assistant tokens in SFT, every token but
/// the first in pre-training).
/// </summary>
public sealed record EncodedExample
{
    /// <summary>Creates the example; the two arrays must have the same length.</summary>
    public EncodedExample(int[] ids, bool[] lossMask)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(lossMask);
        if (ids.Length != lossMask.Length)
        {
            throw new ArgumentException($"ids ({ids.Length}) and loss mask ({lossMask.Length}) differ in length", nameof(lossMask));
        }

        Ids = ids;
        LossMask = lossMask;
    }

    /// <summary>The token ids.</summary>
    public int[] Ids { get; }

    /// <summary>Per token: whether predicting it counts in the loss.</summary>
    public bool[] LossMask { get; }

    /// <summary>The number of tokens.</summary>
    public int Length => Ids.Length;

    /// <summary>Builds an example whose every token but the first is a target (plain text, continual pre-training).</summary>
    public static EncodedExample AllTargets(int[] ids) => new(ids, ids.Select((_, i) => i > 0).ToArray());
}
