using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Calibration;

/// <summary>The calibration statistics of one layer (float32 CPU tensors, owned by the enclosing artifact).</summary>
/// <param name="HiddenStates">Sampled MLP inputs (post_attention_layernorm outputs) <c>(M, H)</c>.</param>
/// <param name="MeanAbsActivation">Mean |h| of every SwiGLU intermediate neuron <c>(I)</c>.</param>
/// <param name="ActiveFrequency">Fraction of tokens with h &gt; 0, per neuron <c>(I)</c>.</param>
/// <param name="Coactivation">Co-activation graph <c>(I, I)</c> (zero diagonal), or null.</param>
/// <param name="Centroids">Router cluster centroids <c>(E, H)</c>, or null.</param>
/// <param name="Importance">Mean |h·∂L/∂h| per cluster and neuron <c>(E, I)</c>, or null.</param>
/// <param name="ImportanceTokens">Tokens per cluster behind <paramref name="Importance"/> <c>(E)</c> (float64 counts), or null.</param>
public sealed record LayerCalibration(
    Tensor HiddenStates,
    Tensor MeanAbsActivation,
    Tensor ActiveFrequency,
    Tensor? Coactivation,
    Tensor? Centroids,
    Tensor? Importance,
    Tensor? ImportanceTokens)
{
    /// <summary>The importance as one float array per cluster (for <see cref="Construction.GradientSplit"/>), or null.</summary>
    public float[][]? ImportanceArrays()
    {
        if (Importance is null)
        {
            return null;
        }

        var neurons = (int)Importance.shape[1];
        var flat = Importance.contiguous().data<float>().ToArray();
        return Enumerable.Range(0, (int)Importance.shape[0]).Select(c => flat.AsSpan(c * neurons, neurons).ToArray()).ToArray();
    }

    /// <summary>The co-activation graph row-major (for <see cref="Construction.CoactivationSplit"/>), or null.</summary>
    public float[]? CoactivationArray() => Coactivation?.contiguous().data<float>().ToArray();

    internal IEnumerable<(string Name, Tensor Tensor)> Named(int layer)
    {
        var prefix = $"layers.{layer}.";
        yield return (prefix + "hidden_states", HiddenStates);
        yield return (prefix + "mean_abs_activation", MeanAbsActivation);
        yield return (prefix + "active_frequency", ActiveFrequency);
        foreach (var (name, tensor) in new[] { ("coactivation", Coactivation), ("centroids", Centroids), ("importance", Importance), ("importance_tokens", ImportanceTokens) })
        {
            if (tensor is not null)
            {
                yield return (prefix + name, tensor);
            }
        }
    }

    internal void Dispose()
    {
        foreach (var tensor in new[] { HiddenStates, MeanAbsActivation, ActiveFrequency, Coactivation, Centroids, Importance, ImportanceTokens })
        {
            tensor?.Dispose();
        }
    }
}
