namespace LlamaMoe.Plugins.Construction;

/// <summary>Options of <c>split-mlp/gradient</c> (its <c>residual</c> uses v2's common-importance rule).</summary>
public sealed class GradientSplitOptions : SizedSplitOptions
{
}
