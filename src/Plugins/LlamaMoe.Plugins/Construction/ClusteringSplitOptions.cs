using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Which MLP weight rows the clustering split clusters.</summary>
public enum ClusteringWeights
{
    /// <summary>up_proj rows (v1's choice).</summary>
    Up,

    /// <summary>gate_proj rows.</summary>
    Gate,
}

/// <summary>Options of <c>split-mlp/clustering</c>.</summary>
public sealed class ClusteringSplitOptions : SeededSplitOptions
{
    /// <summary>The weight rows to cluster.</summary>
    [Option("Which weight rows are clustered: up (v1) or gate.")]
    public ClusteringWeights Weights { get; set; } = ClusteringWeights.Up;

    /// <summary>Lloyd iterations.</summary>
    [Option("Balanced k-means iterations (v1: 500).", Minimum = 1, Maximum = 10000)]
    public int Iterations { get; set; } = 500;

    /// <summary>L2-normalise rows first.</summary>
    [Option("L2-normalise every weight row before clustering (v1 does).")]
    public bool Normalize { get; set; } = true;
}
