using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// A minimal model folder of raw MLP weights, used by fixtures and tests of splitters:
/// <c>mlp-weights.json</c> (<c>{"hidden":H,"intermediate":I,"layers":L}</c>) and, per layer <c>n</c>,
/// <c>layer-NNN.gate.f32</c>, <c>.up.f32</c> (I×H) and <c>.down.f32</c> (H×I), little-endian float32, row-major.
/// </summary>
public static class MlpWeightsFolder
{
    /// <summary>The header file name.</summary>
    public const string HeaderFileName = "mlp-weights.json";

    /// <summary>True when the folder holds the header.</summary>
    public static bool IsMlpWeightsFolder(string directory) => File.Exists(Path.Combine(directory, HeaderFileName));

    /// <summary>Writes layers into <paramref name="directory"/> (all of one shape).</summary>
    public static void Write(string directory, IReadOnlyList<MlpLayerWeights> layers)
    {
        Directory.CreateDirectory(directory);
        var header = new Header(layers[0].Hidden, layers[0].Intermediate, layers.Count);
        File.WriteAllText(Path.Combine(directory, HeaderFileName), JsonSerializer.Serialize(header));
        foreach (var layer in layers)
        {
            WriteFloats(LayerFile(directory, layer.LayerIndex, "gate"), layer.Gate.Span);
            WriteFloats(LayerFile(directory, layer.LayerIndex, "up"), layer.Up.Span);
            WriteFloats(LayerFile(directory, layer.LayerIndex, "down"), layer.Down.Span);
        }
    }

    /// <summary>Reads the layers lazily.</summary>
    public static IEnumerable<MlpLayerWeights> Read(string directory, CancellationToken cancellationToken = default)
    {
        var headerPath = Path.Combine(directory, HeaderFileName);
        Header header;
        try
        {
            header = JsonSerializer.Deserialize<Header>(File.ReadAllText(headerPath)) ?? throw new JsonException("empty header");
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new LlamaMoeException(ContractErrorCodes.MlpWeightsHeaderInvalid, $"the MLP weights header cannot be read: {ex.Message}", headerPath, inner: ex);
        }

        if (header.Hidden <= 0 || header.Intermediate <= 0 || header.Layers <= 0 || (long)header.Hidden * header.Intermediate > int.MaxValue)
        {
            throw new LlamaMoeException(ContractErrorCodes.MlpWeightsHeaderInvalid, "the MLP weights header has a non-positive or oversized shape", headerPath);
        }

        var count = header.Hidden * header.Intermediate;
        for (var i = 0; i < header.Layers; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new MlpLayerWeights(
                i,
                header.Hidden,
                header.Intermediate,
                ReadFloats(LayerFile(directory, i, "gate"), count),
                ReadFloats(LayerFile(directory, i, "up"), count),
                ReadFloats(LayerFile(directory, i, "down"), count));
        }
    }

    private static string LayerFile(string directory, int layer, string part) => Path.Combine(directory, $"layer-{layer:D3}.{part}.f32");

    private static void WriteFloats(string path, ReadOnlySpan<float> values) => File.WriteAllBytes(path, MemoryMarshal.AsBytes(values).ToArray());

    private static float[] ReadFloats(string path, int count)
    {
        var bytes = File.Exists(path) ? File.ReadAllBytes(path) : throw new LlamaMoeException(ContractErrorCodes.MlpWeightsFileInvalid, "an MLP weights file is missing", path);
        if (bytes.Length != count * sizeof(float))
        {
            throw new LlamaMoeException(ContractErrorCodes.MlpWeightsFileInvalid, $"expected {count * sizeof(float)} bytes, found {bytes.Length}", path);
        }

        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    private sealed record Header(
        [property: JsonPropertyName("hidden")] int Hidden,
        [property: JsonPropertyName("intermediate")] int Intermediate,
        [property: JsonPropertyName("layers")] int Layers);
}
