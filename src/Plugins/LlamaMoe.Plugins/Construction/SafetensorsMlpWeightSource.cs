using System.Composition;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Pipeline.Splitting;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Reads the MLP weights of a dense Hugging Face LLaMA directory (config.json with model_type llama plus
/// model.safetensors or a sharded index) one layer at a time, so every splitter — built-in or a user's — can split
/// a real checkpoint. Only one layer's gate/up/down matrices (as float32) are alive at a time.
/// </summary>
[Export(typeof(IMlpWeightSource))]
public sealed class SafetensorsMlpWeightSource : IMlpWeightSource
{
    /// <inheritdoc />
    public bool CanRead(string modelDirectory)
    {
        var config = Path.Combine(modelDirectory, ModelDirectory.ConfigFileName);
        var hasWeights = File.Exists(Path.Combine(modelDirectory, ShardedCheckpoint.SingleFileName))
            || File.Exists(Path.Combine(modelDirectory, ShardedCheckpoint.IndexFileName));
        return File.Exists(config) && hasWeights && DenseModelConfig.IsDenseLlama(modelDirectory);
    }

    /// <inheritdoc />
    public IEnumerable<MlpLayerWeights> ReadLayers(string modelDirectory, CancellationToken cancellationToken)
    {
        TorchRuntime.EnsureLoaded();
        var config = DenseModelConfig.Read(modelDirectory);
        using var checkpoint = ShardedCheckpoint.Open(modelDirectory);
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var prefix = $"model.layers.{layer}.mlp.";
            var gate = ReadMatrix(checkpoint, prefix + "gate_proj.weight", config.IntermediateSize, config.HiddenSize);
            var up = ReadMatrix(checkpoint, prefix + "up_proj.weight", config.IntermediateSize, config.HiddenSize);
            var down = ReadMatrix(checkpoint, prefix + "down_proj.weight", config.HiddenSize, config.IntermediateSize);
            yield return new MlpLayerWeights(layer, config.HiddenSize, config.IntermediateSize, gate, up, down);
        }
    }

    private static float[] ReadMatrix(ShardedCheckpoint checkpoint, string name, int rows, int columns)
    {
        using var scope = NewDisposeScope();
        var info = checkpoint.Info(name);
        if (info.Shape.Length != 2 || info.Shape[0] != rows || info.Shape[1] != columns)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.WeightShape,
                $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], config.json implies [{rows}, {columns}]",
                key: name, advice: "Re-export the checkpoint or fix config.json so the MLP shapes agree.");
        }

        var tensor = checkpoint.Read(name).to(ScalarType.Float32).contiguous(); // (rows, columns)
        return tensor.data<float>().ToArray();
    }
}
