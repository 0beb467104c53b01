using LlamaMoe.Pipeline.Splitting;

namespace MagnitudeSplitter.Tests;

/// <summary>Small layers whose neuron norms are known.</summary>
internal static class TinyModel
{
    /// <summary>A layer with H=2, I=norms.Length; neuron n's gate row is (norms[n], 0) and its up row is zero.</summary>
    public static MlpLayerWeights Layer(int index, params float[] norms)
    {
        const int hidden = 2;
        var gate = new float[norms.Length * hidden];
        for (var n = 0; n < norms.Length; n++)
        {
            gate[n * hidden] = norms[n];
        }

        return new MlpLayerWeights(index, hidden, norms.Length, gate, new float[gate.Length], new float[gate.Length]);
    }

    /// <summary>Random layers (seeded).</summary>
    public static IReadOnlyList<MlpLayerWeights> Random(int layers, int hidden, int intermediate, int seed)
    {
        var random = new Random(seed);
        float[] Next() => Enumerable.Range(0, hidden * intermediate).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return Enumerable.Range(0, layers).Select(i => new MlpLayerWeights(i, hidden, intermediate, Next(), Next(), Next())).ToList();
    }
}
