using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary>How a calibration data file is read.</summary>
public enum CalibrationDataFormat
{
    /// <summary>Plain text cut into sequences.</summary>
    Text,

    /// <summary>Stories separated by <c>&lt;|endoftext|&gt;</c> lines, one sequence each.</summary>
    Stories,

    /// <summary>Chat JSONL through a chat template (prompt tokens carry no loss).</summary>
    Chat,
}

/// <summary>Options of <c>calibrate</c>.</summary>
public sealed class CalibrateOptions : CalibrationDataOptions
{
    /// <summary>Hidden-state samples kept per layer.</summary>
    [Option("MLP-input hidden states kept per layer (seeded reservoir sample) for router k-means and token rows.", Minimum = 1)]
    public int MaxHiddenStates { get; set; } = 4096;

    /// <summary>Accumulate the co-activation graph (for split-mlp/coactivation).</summary>
    [Option("Accumulate each layer's (I, I) neuron co-activation graph (needed by split-mlp/coactivation).")]
    public bool Coactivation { get; set; }

    /// <summary>Compute per-cluster importance with a backward pass (for split-mlp/gradient and sharing).</summary>
    [Option("Compute per-cluster neuron importance |h·dL/dh| (a second pass with backward; needed by split-mlp/gradient and split-mlp/sharing). Clusters come from a router-weights stage in needs, else from balanced k-means with 'experts' clusters.")]
    public bool Importance { get; set; }

    /// <summary>Clusters for importance when no router stage is needed.</summary>
    [Option("Clusters for importance when no router-weights stage is in needs (balanced k-means of the hidden states).", Minimum = 1, Maximum = 1024)]
    public int? Experts { get; set; }

    /// <summary>Reservoir seed.</summary>
    [Option("Seed of the hidden-state sampling and k-means (as convert --seed); the pipeline seed when absent.")]
    public int? Seed { get; set; }

    /// <summary>A dense model folder when no dense-model stage is needed.</summary>
    [Option("Dense model folder when no dense-model stage is in needs (relative to the pipeline file).", Path = OptionPathKind.Input)]
    public string? Model { get; set; }

    /// <inheritdoc />
    public override IEnumerable<OptionProblem> Validate()
    {
        if (Experts is not null && !Importance)
        {
            yield return new OptionProblem("experts", "'experts' only applies with 'importance: true'", "Set 'importance: true' or remove 'experts'.");
        }

        if (Template is not ("llama3" or "llama2" or "plain"))
        {
            yield return new OptionProblem("template", $"unknown chat template '{Template}'", "Use llama3, llama2 or plain.");
        }
    }
}
