using ModelPartitionSet = LlamaMoe.Modeling.Construction.ExpertPartition;
using PublicPartition = LlamaMoe.Pipeline.Splitting.ExpertPartition;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Converts between the modeling library's expert partition and the public splitter contract's.</summary>
public static class PartitionConversion
{
    /// <summary>The public form (expert neuron lists and the residual list, empty when none).</summary>
    public static PublicPartition ToPublic(ModelPartitionSet partition) =>
        new(partition.Experts.Select(set => (IReadOnlyList<int>)set.ToArray()).ToList(), partition.Residual?.ToArray() ?? []);

    /// <summary>
    /// The modeling form of one layer's public partition over <paramref name="intermediate"/> neurons: sets sorted,
    /// an empty residual becomes none, and the partition is marked overlapping when a neuron is repeated or left out.
    /// </summary>
    public static ModelPartitionSet ToModel(PublicPartition partition, int intermediate)
    {
        var experts = partition.Experts.Select(set => set.Order().ToArray()).ToArray();
        var residual = partition.Residual.Count == 0 ? null : partition.Residual.Order().ToArray();
        var all = experts.SelectMany(set => set).Concat(residual ?? []).ToList();
        var overlapping = all.Count != intermediate || all.Distinct().Count() != all.Count;
        return new ModelPartitionSet(intermediate, experts, residual, overlapping);
    }
}
