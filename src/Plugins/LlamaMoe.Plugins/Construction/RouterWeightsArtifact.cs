using System.Text.Json;
using System.Text.Json.Serialization;
using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// The <c>router-weights</c> artifact: <c>router.json</c> (<c>{"format":"llamamoe-router/1","init":...,"experts":E,"hidden":H,"layers":L}</c>)
/// and <c>router.safetensors</c> with, per model layer i, <c>layers.i.weight</c> <c>(E, H)</c> float32 and — for
/// k-means routers — <c>layers.i.assignment</c> <c>(N)</c> int64, the cluster of every calibration token.
/// </summary>
public static class RouterWeightsArtifact
{
    /// <summary>The description file.</summary>
    public const string HeaderFileName = "router.json";

    /// <summary>The tensors file.</summary>
    public const string TensorsFileName = "router.safetensors";

    /// <summary>The format tag.</summary>
    public const string Format = "llamamoe-router/1";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Writes the artifact; <paramref name="weights"/> holds one <c>(E, H)</c> tensor per layer, <paramref name="assignments"/> optional labels per layer.</summary>
    public static void Write(string directory, string init, IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor>? assignments = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (var layer = 0; layer < weights.Count; layer++)
        {
            tensors.Add(new($"layers.{layer}.weight", weights[layer]));
            if (assignments is not null)
            {
                tensors.Add(new($"layers.{layer}.assignment", assignments[layer]));
            }
        }

        SafetensorsWriter.Write(Path.Combine(directory, TensorsFileName), tensors);
        var header = new RouterHeader(Format, init, (int)weights[0].shape[0], (int)weights[0].shape[1], weights.Count);
        AtomicFile.WriteAllText(Path.Combine(directory, HeaderFileName), JsonSerializer.Serialize(header, JsonOptions) + "\n");
    }

    /// <summary>Reads the header, checking the format.</summary>
    public static RouterHeader ReadHeader(string directory)
    {
        var path = Path.Combine(directory, HeaderFileName);
        try
        {
            var header = JsonSerializer.Deserialize<RouterHeader>(File.ReadAllText(path)) ?? throw new JsonException("empty");
            if (header.Format != Format || header.Experts < 1 || header.Hidden < 1 || header.Layers < 1)
            {
                throw new JsonException($"unsupported format '{header.Format}' or non-positive sizes");
            }

            return header;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.RouterContent, "the router weights cannot be read: " + ex.Message, path,
                advice: "Rebuild the router stage (llama-moe run --force STAGE).", inner: ex);
        }
    }

    /// <summary>Reads layer <paramref name="layer"/>'s router weight <c>(E, H)</c> as float32.</summary>
    public static Tensor ReadLayer(string directory, int layer)
    {
        var header = ReadHeader(directory);
        using var file = SafetensorsFile.Open(Path.Combine(directory, TensorsFileName));
        var name = $"layers.{layer}.weight";
        if (!file.Tensors.TryGetValue(name, out var info) || info.Shape.Length != 2 || info.Shape[0] != header.Experts || info.Shape[1] != header.Hidden)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.RouterContent, $"the router weights lack '{name}' of shape [{header.Experts}, {header.Hidden}]",
                Path.Combine(directory, TensorsFileName), name, "Rebuild the router stage for this model.");
        }

        using var scope = NewDisposeScope();
        return file.Read(name).to(ScalarType.Float32).MoveToOuterDisposeScope(); // (E, H)
    }
}

/// <summary>The content of <c>router.json</c>.</summary>
/// <param name="Format">The format tag.</param>
/// <param name="Init">How the routers were initialised (random, kmeans, tokens).</param>
/// <param name="Experts">E, routed experts per layer.</param>
/// <param name="Hidden">H, the model width.</param>
/// <param name="Layers">Number of model layers (one router per layer).</param>
public sealed record RouterHeader(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("experts")] int Experts,
    [property: JsonPropertyName("hidden")] int Hidden,
    [property: JsonPropertyName("layers")] int Layers);
