using System.Text.Json;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Calibration;

/// <summary>
/// Everything <see cref="Calibrator"/> recorded, per layer, so pipeline stages can pass it on: saved as a directory with
/// <c>calibration.safetensors</c> (tensors named <c>layers.{i}.hidden_states</c>, <c>.mean_abs_activation</c>,
/// <c>.active_frequency</c>, <c>.coactivation</c>, <c>.centroids</c>, <c>.importance</c>, <c>.importance_tokens</c>) and
/// <c>calibration.json</c> (sizes and token counts), published atomically.
/// </summary>
public sealed class CalibrationArtifact : IDisposable
{
    /// <summary>The tensor file name.</summary>
    public const string TensorFileName = "calibration.safetensors";

    /// <summary>The description file name.</summary>
    public const string JsonFileName = "calibration.json";

    /// <summary>Creates an artifact (takes ownership of the layer tensors).</summary>
    public CalibrationArtifact(int hiddenSize, int intermediateSize, long tokens, int samples, IReadOnlyList<LayerCalibration> layers)
    {
        HiddenSize = hiddenSize;
        IntermediateSize = intermediateSize;
        Tokens = tokens;
        Samples = samples;
        Layers = layers;
    }

    /// <summary>Model width H.</summary>
    public int HiddenSize { get; }

    /// <summary>Dense MLP width I.</summary>
    public int IntermediateSize { get; }

    /// <summary>Tokens the statistics were computed on.</summary>
    public long Tokens { get; }

    /// <summary>Calibration sequences.</summary>
    public int Samples { get; }

    /// <summary>One entry per model layer.</summary>
    public IReadOnlyList<LayerCalibration> Layers { get; }

    /// <summary>Saves the artifact into <paramref name="directory"/> (atomically replaced).</summary>
    public void Save(string directory) => AtomicDirectory.Publish(directory, temp =>
    {
        var tensors = Layers.SelectMany((layer, i) => layer.Named(i)).Select(p => new KeyValuePair<string, TorchSharp.torch.Tensor>(p.Name, p.Tensor)).ToList();
        SafetensorsWriter.Write(Path.Combine(temp, TensorFileName), tensors);
        var json = new JsonObject
        {
            ["format_version"] = 1,
            ["layers"] = Layers.Count,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["tokens"] = Tokens,
            ["samples"] = Samples,
        };
        AtomicFile.WriteAllText(Path.Combine(temp, JsonFileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    });

    /// <summary>Loads an artifact saved by <see cref="Save"/> (LMOE2209 when malformed).</summary>
    public static CalibrationArtifact Load(string directory)
    {
        var jsonPath = Path.Combine(directory, JsonFileName);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(jsonPath), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            throw Invalid("cannot read calibration.json: " + ex.Message, jsonPath);
        }

        int Int(string key) => json[key] is JsonValue v && v.TryGetValue<long>(out var n) ? (int)n : throw Invalid($"calibration.json lacks the integer '{key}'", jsonPath);
        if (Int("format_version") != 1)
        {
            throw Invalid("unsupported calibration format_version", jsonPath);
        }

        var layerCount = Int("layers");
        var tokens = json["tokens"] is JsonValue t && t.TryGetValue<long>(out var tk) ? tk : 0;
        using var file = SafetensorsFile.Open(Path.Combine(directory, TensorFileName));
        TorchSharp.torch.Tensor? Optional(string name) => file.Tensors.ContainsKey(name) ? file.Read(name) : null;
        TorchSharp.torch.Tensor Required(string name) => file.Tensors.ContainsKey(name) ? file.Read(name) : throw Invalid($"the calibration tensors lack '{name}'", directory);
        var layers = new List<LayerCalibration>();
        for (var i = 0; i < layerCount; i++)
        {
            var p = $"layers.{i}.";
            layers.Add(new LayerCalibration(Required(p + "hidden_states"), Required(p + "mean_abs_activation"), Required(p + "active_frequency"),
                Optional(p + "coactivation"), Optional(p + "centroids"), Optional(p + "importance"), Optional(p + "importance_tokens")));
        }

        return new CalibrationArtifact(Int("hidden_size"), Int("intermediate_size"), tokens, Int("samples"), layers);
    }

    /// <summary>Checks the artifact fits a model with these sizes (LMOE2209).</summary>
    public void CheckMatches(int layers, int hiddenSize, int intermediateSize, string? source = null)
    {
        if (layers != Layers.Count || hiddenSize != HiddenSize || intermediateSize != IntermediateSize)
        {
            throw Invalid($"the calibration is for {Layers.Count} layers, H={HiddenSize}, I={IntermediateSize}, but the model has {layers}, {hiddenSize}, {intermediateSize}", source);
        }
    }

    internal static LlamaMoeException Invalid(string message, string? path) =>
        new(ConstructionErrorCodes.CalibrationArtifactInvalid, message, path, advice: "Re-run calibration on this model.");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var layer in Layers)
        {
            layer.Dispose();
        }
    }
}
