namespace LlamaMoe.Tensors;

/// <summary>
/// The native names of an MoE layer's tensors (router, experts, residual expert), inside the dense layer names of
/// <see cref="DenseTensorNames"/>.
/// </summary>
public static class MoeTensorNames
{
    /// <summary><c>model.layers.{layer}.block_sparse_moe</c>.</summary>
    public static string Block(int layer) => $"{DenseTensorNames.Layer(layer)}.block_sparse_moe";

    /// <summary>The router weight (E, H).</summary>
    public static string Router(int layer) => $"{Block(layer)}.gate.weight";

    /// <summary>Expert <paramref name="expert"/>'s <c>w1</c>/<c>w2</c>/<c>w3</c> weight.</summary>
    public static string Expert(int layer, int expert, string w) => $"{Block(layer)}.experts.{expert}.{w}.weight";

    /// <summary>The residual expert's <c>w1</c>/<c>w2</c>/<c>w3</c> weight (native: inside the block).</summary>
    public static string Residual(int layer, string w) => $"{Block(layer)}.mlp_residual.{w}.weight";
}
