namespace LlamaMoe.Modeling.Export;

/// <summary>Native tensor names of MoE layers.</summary>
public static class MoeTensorNames
{
    /// <summary><c>model.layers.{layer}.block_sparse_moe</c>.</summary>
    public static string Block(int layer) => $"model.layers.{layer}.block_sparse_moe";

    /// <summary>The router weight (E, H).</summary>
    public static string Router(int layer) => $"{Block(layer)}.gate.weight";

    /// <summary>Expert <paramref name="expert"/>'s <c>w1</c>/<c>w2</c>/<c>w3</c> weight.</summary>
    public static string Expert(int layer, int expert, string w) => $"{Block(layer)}.experts.{expert}.{w}.weight";

    /// <summary>The residual expert's <c>w1</c>/<c>w2</c>/<c>w3</c> weight (native: inside the block).</summary>
    public static string Residual(int layer, string w) => $"{Block(layer)}.mlp_residual.{w}.weight";

    /// <summary>Layer index of a <c>model.layers.{i}.</c> name, or -1.</summary>
    public static int LayerOf(string name)
    {
        const string prefix = "model.layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return -1;
        }

        var end = name.IndexOf('.', prefix.Length);
        return end > 0 && int.TryParse(name.AsSpan(prefix.Length, end - prefix.Length), out var i) ? i : -1;
    }
}
