namespace LlamaMoe.Pipeline.Splitting;

/// <summary>Options every MLP splitter step has; derive a splitter's own options from this.</summary>
public class MlpSplitterOptions : StepOptions
{
    /// <summary>The number of experts per layer.</summary>
    [Option("Number of experts per layer.", Required = true, Minimum = 1, Maximum = 1024)]
    public int Experts { get; set; }

    /// <summary>A model folder to split when the stage needs no model-producing stage.</summary>
    [Option("Model folder to split when no dense-model stage is in needs (relative to the pipeline file).", Path = OptionPathKind.Input)]
    public string? Model { get; set; }

}
