using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats;

/// <summary>
/// Converts q/k projection rows from the interleaved (Meta, llama2.c, GGUF) RoPE layout, which rotates adjacent pairs,
/// to the Hugging Face "rotate half" layout, which rotates the two halves of each head.
/// </summary>
public static class RopePermutation
{
    /// <summary>
    /// Permutes the rows of <paramref name="weight"/> <c>(heads*hd, D)</c>: view as <c>(heads, hd/2, 2, D)</c>, swap the two
    /// middle axes, reshape back.
    /// </summary>
    public static Tensor InterleavedToHalves(Tensor weight, long heads)
    {
        var rows = weight.shape[0];
        var cols = weight.shape[1];
        using var scope = NewDisposeScope();
        return weight.view(heads, rows / heads / 2, 2, cols) // (H, hd/2, 2, D)
            .transpose(1, 2)                                  // (H, 2, hd/2, D)
            .reshape(rows, cols)                              // (H*hd, D)
            .contiguous()
            .MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The inverse of <see cref="InterleavedToHalves"/>: permutes Hugging Face "rotate half" rows back to the interleaved
    /// layout llama.cpp's rope expects: view as <c>(heads, 2, hd/2, D)</c>, swap the two middle axes, reshape back.
    /// </summary>
    public static Tensor HalvesToInterleaved(Tensor weight, long heads)
    {
        var rows = weight.shape[0];
        var cols = weight.shape[1];
        using var scope = NewDisposeScope();
        return weight.view(heads, 2, rows / heads / 2, cols) // (H, 2, hd/2, D)
            .transpose(1, 2)                                  // (H, hd/2, 2, D)
            .reshape(rows, cols)                              // (H*hd, D)
            .contiguous()
            .MoveToOuterDisposeScope();
    }
}
