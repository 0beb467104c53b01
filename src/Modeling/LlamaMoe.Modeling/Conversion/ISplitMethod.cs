using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// One way to split a dense MLP layer's neurons into experts. Every method is registered once in
/// <see cref="ConstructionMethods"/>; <c>llama-moe convert --split</c> and the <c>split-mlp/*</c> steps both resolve it
/// there, so the same options and seed give the same partition whichever way in.
/// </summary>
public interface ISplitMethod
{
    /// <summary>The method's name (<c>--split NAME</c>, <c>split-mlp/NAME</c>).</summary>
    string Name { get; }

    /// <summary>Whether the method needs per-cluster importance (a calibration with importance).</summary>
    bool NeedsImportance { get; }

    /// <summary>Whether the method needs the co-activation graph.</summary>
    bool NeedsCoactivation { get; }

    /// <summary>Whether the method reads the dense MLP weights (through <see cref="SplitRequest.ReadRows"/>); the others never load them.</summary>
    bool ReadsWeights { get; }

    /// <summary>Whether the method can keep a residual (always-on) expert.</summary>
    bool SupportsResidual { get; }

    /// <summary>Splits one layer.</summary>
    ExpertPartition Split(SplitRequest request);
}
