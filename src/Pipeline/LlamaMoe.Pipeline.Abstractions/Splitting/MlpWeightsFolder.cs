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
            foreach (var projection in new[] { MlpProjection.Gate, MlpProjection.Up, MlpProjection.Down })
            {
                WriteFloats(LayerFile(directory, layer.LayerIndex, PartName(projection)), layer.Of(projection));
            }
        }
    }

    /// <summary>Opens the folder: reads and checks the header now, each weight file only when asked for.</summary>
    public static IMlpWeightReader Open(string directory)
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

        return new Reader(directory, new MlpShape(header.Layers, header.Hidden, header.Intermediate));
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

    private static string PartName(MlpProjection projection) => projection switch
    {
        MlpProjection.Gate => "gate",
        MlpProjection.Up => "up",
        _ => "down",
    };

    private sealed class Reader(string directory, MlpShape shape) : IMlpWeightReader
    {
        public MlpShape Shape { get; } = shape;

        public float[] Read(int layer, MlpProjection projection) =>
            ReadFloats(LayerFile(directory, layer, PartName(projection)), Shape.Hidden * Shape.Intermediate);

        public void Dispose()
        {
        }
    }

    private sealed record Header(
        [property: JsonPropertyName("hidden")] int Hidden,
        [property: JsonPropertyName("intermediate")] int Intermediate,
        [property: JsonPropertyName("layers")] int Layers);
}
