namespace LlamaMoe.Construction;

/// <summary>
/// The neuron sets of one layer's experts: expert e takes rows <c>Experts[e]</c> of gate_proj and up_proj and the
/// same columns of down_proj; the optional residual (shared, always-on) expert takes <c>Residual</c>.
/// Indices are ascending within every set. This one type travels from a split method (built in or a plugin's) through
/// the partition artifact (<c>partition.json</c>, which keeps <see cref="Overlapping"/>) to the MoE builder.
/// </summary>
/// <param name="NeuronCount">Intermediate size I of the dense MLP.</param>
/// <param name="Experts">Ascending neuron indices of every routed expert.</param>
/// <param name="Residual">Ascending neuron indices of the residual expert, or null.</param>
/// <param name="Overlapping">
/// Declared by the method: false means every neuron belongs to exactly one set (routed or residual), so summing
/// all experts with weight 1 reproduces the dense MLP; true (inner sharing) means experts may share neurons and
/// some neurons may be left out.
/// </param>
public sealed record ExpertPartition(int NeuronCount, IReadOnlyList<int[]> Experts, int[]? Residual, bool Overlapping)
{
    /// <summary>Number of routed experts E.</summary>
    public int ExpertCount => Experts.Count;

    /// <summary>Neurons of every routed expert.</summary>
    public int[] ExpertSizes => Experts.Select(set => set.Length).ToArray();

    /// <summary>Expert slots minus distinct neurons: how many neuron copies the sharing adds (0 for a partition).</summary>
    public int Overlap
    {
        get
        {
            var all = Experts.SelectMany(set => set).Concat(Residual ?? []);
            var slots = Experts.Sum(set => set.Length) + (Residual?.Length ?? 0);
            return slots - all.Distinct().Count();
        }
    }

    /// <summary>
    /// A partition in which every neuron belongs to exactly one set: the sets are sorted ascending, so a splitter may
    /// list its neurons in any order. An empty or absent residual means none.
    /// </summary>
    /// <param name="neuronCount">I, the dense MLP's intermediate size.</param>
    /// <param name="experts">Per routed expert, its neuron indices.</param>
    /// <param name="residual">The residual (always-on) expert's neurons, or null.</param>
    public static ExpertPartition Disjoint(int neuronCount, IEnumerable<IEnumerable<int>> experts, IEnumerable<int>? residual = null) =>
        Sorted(neuronCount, experts, residual, overlapping: false);

    /// <summary>
    /// A partition whose experts may share neurons and leave some out (inner sharing); sets are sorted ascending.
    /// </summary>
    /// <param name="neuronCount">I, the dense MLP's intermediate size.</param>
    /// <param name="experts">Per routed expert, its neuron indices.</param>
    /// <param name="residual">The residual (always-on) expert's neurons, or null.</param>
    public static ExpertPartition Sharing(int neuronCount, IEnumerable<IEnumerable<int>> experts, IEnumerable<int>? residual = null) =>
        Sorted(neuronCount, experts, residual, overlapping: true);

    /// <summary>Builds a partition from per-neuron expert labels (v1's label vector): neuron j goes to expert <c>labels[j]</c>.</summary>
    public static ExpertPartition FromLabels(IReadOnlyList<int> labels, int experts)
    {
        var sets = Enumerable.Range(0, experts).Select(_ => new List<int>()).ToArray();
        for (var neuron = 0; neuron < labels.Count; neuron++)
        {
            sets[labels[neuron]].Add(neuron);
        }

        return new ExpertPartition(labels.Count, sets.Select(set => set.ToArray()).ToArray(), null, false);
    }

    /// <summary>Per-neuron expert label (−1 for residual neurons); only for non-overlapping partitions.</summary>
    public int[] ToLabels()
    {
        if (Overlapping)
        {
            throw new InvalidOperationException("An overlapping partition has no single label per neuron.");
        }

        var labels = new int[NeuronCount];
        Array.Fill(labels, -1);
        for (var e = 0; e < Experts.Count; e++)
        {
            foreach (var neuron in Experts[e])
            {
                labels[neuron] = e;
            }
        }

        return labels;
    }

    /// <summary>
    /// Checks the declared invariants: indices in range, ascending and unique within a set, non-empty experts and,
    /// unless <see cref="Overlapping"/>, every neuron in exactly one set.
    /// </summary>
    /// <exception cref="LlamaMoeException">LMOE2102 when an invariant does not hold.</exception>
    public void Validate()
    {
        if (Problem() is { } problem)
        {
            throw new LlamaMoeException(CoreErrorCodes.PartitionInvariantBroken, problem, key: "expert_partition",
                advice: "Rebuild the split; the expert neuron sets must match the dense MLP's intermediate size.");
        }
    }

    /// <summary>The first broken invariant (see <see cref="Validate"/>) as a sentence, or null when the partition holds.</summary>
    public string? Problem()
    {
        if (Experts.Count == 0)
        {
            return "The expert partition has no experts.";
        }

        var seen = new int[Math.Max(NeuronCount, 0)];
        var sets = Experts.Select((set, e) => (Name: $"expert {e}", Set: set)).ToList();
        if (Residual is not null)
        {
            sets.Add(("residual expert", Residual));
        }

        foreach (var (name, set) in sets)
        {
            if (set.Length == 0)
            {
                return $"The {name} has no neurons.";
            }

            for (var i = 0; i < set.Length; i++)
            {
                if (set[i] < 0 || set[i] >= NeuronCount || (i > 0 && set[i] <= set[i - 1]))
                {
                    return $"The {name} has an index out of range [0, {NeuronCount}) or out of ascending order at position {i}.";
                }

                seen[set[i]]++;
            }
        }

        var wrong = Overlapping ? -1 : Array.FindIndex(seen, count => count != 1);
        return wrong < 0 ? null : $"Neuron {wrong} belongs to {seen[wrong]} experts; a non-overlapping partition needs exactly one.";
    }

    private static ExpertPartition Sorted(int neuronCount, IEnumerable<IEnumerable<int>> experts, IEnumerable<int>? residual, bool overlapping)
    {
        ArgumentNullException.ThrowIfNull(experts);
        var sets = experts.Select(set => set.Order().ToArray()).ToArray();
        var shared = residual?.Order().ToArray();
        return new ExpertPartition(neuronCount, sets, shared is { Length: > 0 } ? shared : null, overlapping);
    }
}
