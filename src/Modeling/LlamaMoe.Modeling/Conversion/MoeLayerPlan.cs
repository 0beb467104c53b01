using LlamaMoe.Construction;
using LlamaMoe.Modeling.Construction;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>How one dense MLP layer becomes an MoE layer.</summary>
/// <param name="Partition">The expert neuron sets (and optional residual set) over the dense intermediate neurons.</param>
/// <param name="RouterWeight">
/// The router's input projection <c>(E, H)</c> (any float dtype; cast to the checkpoint dtype): the v2 gate weight or the
/// first layer of the v1 tanh MLP.
/// </param>
public sealed record MoeLayerPlan(ExpertPartition Partition, Tensor RouterWeight);
