using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlamaMoe.Pipeline.Splitting;

/// <summary>One layer's split: per expert the neuron indices it owns, plus an optional shared residual list.</summary>
/// <param name="Experts">Per expert, the intermediate neuron indices (each in [0, I)).</param>
/// <param name="Residual">Neurons kept in a shared (always active) residual block; empty when none.</param>
public sealed record ExpertPartition(
    [property: JsonPropertyName("experts")] IReadOnlyList<IReadOnlyList<int>> Experts,
    [property: JsonPropertyName("residual")] IReadOnlyList<int> Residual)
{
    /// <summary>Checks that indices are in range and no neuron is used twice; returns a message or null.</summary>
    public string? Check(int intermediate)
    {
        var seen = new bool[intermediate];
        foreach (var index in Experts.SelectMany(e => e).Concat(Residual))
        {
            if (index < 0 || index >= intermediate)
            {
                return $"neuron index {index} is outside [0, {intermediate})";
            }

            if (seen[index])
            {
                return $"neuron {index} is assigned twice";
            }

            seen[index] = true;
        }

        return null;
    }
}

/// <summary>The <see cref="ArtifactKinds.ExpertPartition"/> artifact content: per layer an <see cref="ExpertPartition"/>, stored as <c>partition.json</c>.</summary>
/// <param name="Intermediate">I, the neuron count of every layer.</param>
/// <param name="Layers">Per layer partitions.</param>
public sealed record ModelPartition(
    [property: JsonPropertyName("intermediate")] int Intermediate,
    [property: JsonPropertyName("layers")] IReadOnlyList<ExpertPartition> Layers)
{
    /// <summary>The file name inside the artifact.</summary>
    public const string FileName = "partition.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false };

    /// <summary>Writes <c>partition.json</c> into <paramref name="artifactDirectory"/>.</summary>
    public void Write(string artifactDirectory) =>
        File.WriteAllText(Path.Combine(artifactDirectory, FileName), JsonSerializer.Serialize(this, JsonOptions));

    /// <summary>Reads <c>partition.json</c> from an artifact folder.</summary>
    public static ModelPartition Read(string artifactDirectory)
    {
        var path = Path.Combine(artifactDirectory, FileName);
        try
        {
            return JsonSerializer.Deserialize<ModelPartition>(File.ReadAllText(path), JsonOptions) ?? throw new JsonException("empty partition");
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new LlamaMoeException(ContractErrorCodes.PartitionUnreadable, $"the expert partition cannot be read: {ex.Message}", path,
                advice: "Rebuild the split stage with 'llama-moe run --force STAGE'.", inner: ex);
        }
    }
}
