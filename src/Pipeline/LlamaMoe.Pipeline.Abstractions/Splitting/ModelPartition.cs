using System.Text.Json;
using System.Text.Json.Serialization;
using LlamaMoe.Construction;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>
/// The <see cref="ArtifactKinds.ExpertPartition"/> artifact content: per layer an <see cref="ExpertPartition"/>, stored
/// as <c>partition.json</c> (<c>{"intermediate":I,"layers":[{"experts":[[...]],"residual":[...],"overlapping":false}]}</c>;
/// an empty residual list means none, and a file without <c>overlapping</c> reads as a disjoint partition).
/// </summary>
/// <param name="Intermediate">I, the neuron count of every layer.</param>
/// <param name="Layers">Per layer partitions.</param>
public sealed record ModelPartition(int Intermediate, IReadOnlyList<ExpertPartition> Layers)
{
    /// <summary>The file name inside the artifact.</summary>
    public const string FileName = "partition.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    /// <summary>Writes <c>partition.json</c> into <paramref name="artifactDirectory"/>.</summary>
    public void Write(string artifactDirectory)
    {
        var file = new PartitionFile(Intermediate, Layers.Select(layer => new LayerEntry(layer.Experts, layer.Residual ?? [], layer.Overlapping)).ToList());
        AtomicFile.WriteAllText(Path.Combine(artifactDirectory, FileName), JsonSerializer.Serialize(file, JsonOptions));
    }

    /// <summary>Reads <c>partition.json</c> from an artifact folder (LMOE0081 when it cannot be read).</summary>
    public static ModelPartition Read(string artifactDirectory)
    {
        var path = Path.Combine(artifactDirectory, FileName);
        try
        {
            var file = JsonSerializer.Deserialize<PartitionFile>(File.ReadAllText(path), JsonOptions) ?? throw new JsonException("empty partition");
            var layers = (file.Layers ?? throw new JsonException("no layers"))
                .Select(layer => new ExpertPartition(file.Intermediate, layer.Experts ?? throw new JsonException("a layer has no experts"),
                    layer.Residual is { Length: > 0 } residual ? residual : null, layer.Overlapping))
                .ToList();
            return new ModelPartition(file.Intermediate, layers);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new LlamaMoeException(ContractErrorCodes.PartitionUnreadable, $"the expert partition cannot be read: {ex.Message}", path,
                advice: "Rebuild the split stage with 'llama-moe run --force STAGE'.", inner: ex);
        }
    }

    private sealed record PartitionFile(
        [property: JsonPropertyName("intermediate")] int Intermediate,
        [property: JsonPropertyName("layers")] IReadOnlyList<LayerEntry>? Layers);

    private sealed record LayerEntry(
        [property: JsonPropertyName("experts")] IReadOnlyList<int[]>? Experts,
        [property: JsonPropertyName("residual")] int[]? Residual,
        [property: JsonPropertyName("overlapping")] bool Overlapping);
}
