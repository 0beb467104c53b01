namespace LlamaMoe.Modeling.Alignment;

/// <summary>What <see cref="DistributionAlignment.Align"/> corrects.</summary>
/// <param name="Bias">
/// Fold the mean shift b too (v2's <c>add_rescale_bias</c>): the aligned model gets <c>mlp_bias</c> (and, for attention-MoE,
/// <c>attention_bias</c>) with zero biases everywhere else. False corrects only the per-dimension scale a and keeps the
/// model bias-free (Mixtral-exportable).
/// </param>
/// <param name="Attention">Align the attention-MoE layers' output (only layers with attention-MoE).</param>
/// <param name="Mlp">Align the MLP-MoE layers' output (routed experts plus the residual expert; contract layers stay as they are).</param>
public sealed record AlignmentOptions(bool Bias = true, bool Attention = true, bool Mlp = true);

/// <summary>The correction applied to one module.</summary>
/// <param name="Layer">Model layer index.</param>
/// <param name="Module"><c>attention</c> or <c>mlp</c>.</param>
/// <param name="MeanScale">Mean of the per-dimension scale a.</param>
/// <param name="MaxAbsShift">Largest |b| (folded only with <see cref="AlignmentOptions.Bias"/>).</param>
/// <param name="Tokens">Calibration tokens the statistics were taken over.</param>
public sealed record ModuleAlignment(int Layer, string Module, double MeanScale, double MaxAbsShift, long Tokens);
