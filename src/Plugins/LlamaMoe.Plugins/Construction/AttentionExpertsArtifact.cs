using System.Text.Json;
using System.Text.Json.Serialization;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// The <c>attention-experts</c> artifact of <c>split-attention/gqa</c>: <c>attention-experts.json</c> (format, router
/// init, n experts, split, model width and layer count, the attention-MoE layers and the heads of every expert) and
/// <c>attention-experts.safetensors</c> with the router <c>layers.i.gate</c> <c>(n, H)</c> float32 of every listed layer.
/// </summary>
public static class AttentionExpertsArtifact
{
    /// <summary>The description file.</summary>
    public const string HeaderFileName = "attention-experts.json";

    /// <summary>The tensors file.</summary>
    public const string TensorsFileName = "attention-experts.safetensors";

    /// <summary>The format tag.</summary>
    public const string Format = "llamamoe-attention-experts/1";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Writes the artifact for <paramref name="partition"/>; <paramref name="routers"/> holds the <c>(n, H)</c> router of every layer in <paramref name="layers"/>.</summary>
    public static void Write(string directory, string init, LlamaConfig config, int split, AttentionExpertPartition partition, IReadOnlyList<int> layers, IReadOnlyDictionary<int, Tensor> routers)
    {
        var tensors = layers.Select(layer => new KeyValuePair<string, Tensor>($"layers.{layer}.gate", routers[layer])).ToList();
        SafetensorsWriter.Write(Path.Combine(directory, TensorsFileName), tensors);
        var heads = partition.Experts.Select(e => new AttentionExpertHeadsJson(e.QueryHeads.ToArray(), e.KeyValueHead)).ToArray();
        var header = new AttentionExpertsHeader(Format, init, partition.ExpertCount, split, config.HiddenSize, config.NumHiddenLayers, layers.ToArray(), heads);
        AtomicFile.WriteAllText(Path.Combine(directory, HeaderFileName), JsonSerializer.Serialize(header, JsonOptions) + "\n");
    }

    /// <summary>Reads the header, checking the format (LMOE2407).</summary>
    public static AttentionExpertsHeader ReadHeader(string directory)
    {
        var path = Path.Combine(directory, HeaderFileName);
        try
        {
            var header = JsonSerializer.Deserialize<AttentionExpertsHeader>(File.ReadAllText(path)) ?? throw new JsonException("empty");
            if (header.Format != Format || header.Experts < 1 || header.Split < 1 || header.Hidden < 1 || header.NumLayers < 1 || header.Layers is null || header.Heads is null)
            {
                throw new JsonException($"unsupported format '{header.Format}', non-positive sizes or missing lists");
            }

            return header;
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.AttentionExpertsContent, "the attention experts cannot be read: " + ex.Message, path,
                advice: "Rebuild the split-attention stage (llama-moe run --force STAGE).", inner: ex);
        }
    }

    /// <summary>
    /// Checks that the artifact was made for <paramref name="config"/> (width, layer count, the expert heads of its split)
    /// and reads every router <c>(n, H)</c> as float32, by layer; the caller owns the tensors.
    /// </summary>
    /// <exception cref="LlamaMoeException">LMOE2407 when the artifact does not fit the model or lacks a router.</exception>
    public static IReadOnlyDictionary<int, Tensor> ReadRouters(string directory, AttentionExpertsHeader header, LlamaConfig config)
    {
        var expected = AttentionExpertPartition.FromConfig(config, header.Split);
        var fits = header.Hidden == config.HiddenSize && header.NumLayers == config.NumHiddenLayers && header.Heads.Length == expected.ExpertCount
            && header.Heads.Zip(expected.Experts).All(pair => pair.First.KeyValueHead == pair.Second.KeyValueHead && pair.First.QueryHeads.SequenceEqual(pair.Second.QueryHeads));
        if (!fits)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.AttentionExpertsContent,
                $"the attention experts were made for {header.NumLayers} layers of width {header.Hidden} with {header.Heads.Length} experts; the model has {config.NumHiddenLayers} layers of width {config.HiddenSize} and split {header.Split} gives {expected.ExpertCount} experts",
                Path.Combine(directory, HeaderFileName), advice: "Run split-attention/gqa on the same dense model that build-moe converts.");
        }

        using var file = SafetensorsFile.Open(Path.Combine(directory, TensorsFileName));
        var routers = new Dictionary<int, Tensor>();
        foreach (var layer in header.Layers)
        {
            var name = $"layers.{layer}.gate";
            if (!file.Tensors.TryGetValue(name, out var info) || info.Shape.Length != 2 || info.Shape[0] != header.Experts || info.Shape[1] != header.Hidden)
            {
                foreach (var router in routers.Values)
                {
                    router.Dispose();
                }

                throw new LlamaMoeException(ConstructionPluginErrors.AttentionExpertsContent, $"the attention experts lack '{name}' of shape [{header.Experts}, {header.Hidden}]",
                    Path.Combine(directory, TensorsFileName), name, "Rebuild the split-attention stage for this model.");
            }

            using var scope = NewDisposeScope();
            routers[layer] = file.Read(name).to(ScalarType.Float32).MoveToOuterDisposeScope(); // (n, H)
        }

        return routers;
    }
}

/// <summary>The content of <c>attention-experts.json</c>.</summary>
/// <param name="Format">The format tag.</param>
/// <param name="Init">How the routers were initialised (kaiming-uniform, zero).</param>
/// <param name="Experts">n, attention experts per layer (KV heads × split).</param>
/// <param name="Split">Experts per KV group.</param>
/// <param name="Hidden">H, the model width.</param>
/// <param name="NumLayers">Layers of the dense model.</param>
/// <param name="Layers">The attention-MoE layers, ascending.</param>
/// <param name="Heads">The dense heads of every expert, in expert order.</param>
public sealed record AttentionExpertsHeader(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("init")] string Init,
    [property: JsonPropertyName("experts")] int Experts,
    [property: JsonPropertyName("split")] int Split,
    [property: JsonPropertyName("hidden")] int Hidden,
    [property: JsonPropertyName("num_layers")] int NumLayers,
    [property: JsonPropertyName("layers")] int[] Layers,
    [property: JsonPropertyName("heads")] AttentionExpertHeadsJson[] Heads);

/// <summary>One expert's heads in <c>attention-experts.json</c>.</summary>
/// <param name="QueryHeads">Dense query-head indices.</param>
/// <param name="KeyValueHead">The dense KV head the expert copies.</param>
public sealed record AttentionExpertHeadsJson(
    [property: JsonPropertyName("query_heads")] int[] QueryHeads,
    [property: JsonPropertyName("kv_head")] int KeyValueHead);
