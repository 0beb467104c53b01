namespace LlamaMoe.Pipeline;

/// <summary>The typed artifact kinds. An artifact is a folder with an <c>artifact.json</c> manifest naming its kind.</summary>
public static class ArtifactKinds
{
    /// <summary>A dense model folder (HF-style config.json + safetensors + tokenizer, or the <see cref="Splitting.MlpWeightsFolder"/> fixture format).</summary>
    public const string DenseModel = "dense-model";

    /// <summary>A Mixture-of-Experts model folder.</summary>
    public const string MoeModel = "moe-model";

    /// <summary>Per layer expert neuron lists (<see cref="Splitting.ModelPartition"/> in <c>partition.json</c>).</summary>
    public const string ExpertPartition = "expert-partition";

    /// <summary>Per layer router matrices.</summary>
    public const string RouterWeights = "router-weights";

    /// <summary>Per layer attention experts (GQA groups, split factor) and their router matrices, for attention-MoE.</summary>
    public const string AttentionExperts = "attention-experts";

    /// <summary>Calibration statistics (hidden-state samples, neuron statistics).</summary>
    public const string Calibration = "calibration";

    /// <summary>A tokenised dataset.</summary>
    public const string Dataset = "dataset";

    /// <summary>metrics.json, report.md and plots.</summary>
    public const string Metrics = "metrics";

    /// <summary>Untyped files.</summary>
    public const string Files = "files";

    /// <summary>Every kind above.</summary>
    public static IReadOnlyList<string> All { get; } = [DenseModel, MoeModel, ExpertPartition, RouterWeights, AttentionExperts, Calibration, Dataset, Metrics, Files];
}
