using System.Composition;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Reads a dense Hugging Face LLaMA folder (<c>config.json</c> plus safetensors, single or sharded) for
/// <see cref="MlpSplitterStep{TOptions}"/>: the shape comes from <c>config.json</c>, and the checkpoint is opened and a
/// projection converted to float32 only when a splitter reads it.
/// </summary>
[Export(typeof(IMlpWeightSource))]
public sealed class SafetensorsMlpWeightSource : IMlpWeightSource
{
    /// <inheritdoc />
    public bool CanRead(string modelDirectory) =>
        File.Exists(Path.Combine(modelDirectory, ModelDirectory.ConfigFileName)) && DenseModelConfig.IsDenseLlama(modelDirectory);

    /// <inheritdoc />
    public IMlpWeightReader Open(string modelDirectory)
    {
        var config = DenseModelConfig.Read(modelDirectory);
        return new Reader(modelDirectory, new MlpShape(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize));
    }

    private sealed class Reader(string modelDirectory, MlpShape shape) : IMlpWeightReader
    {
        private ShardedCheckpoint? checkpoint;

        public MlpShape Shape { get; } = shape;

        public float[] Read(int layer, MlpProjection projection)
        {
            TorchRuntime.EnsureLoaded();
            checkpoint ??= ShardedCheckpoint.Open(modelDirectory);
            var (name, rows, columns) = projection switch
            {
                MlpProjection.Gate => (DenseTensorNames.Mlp(layer, DenseTensorNames.GateProjection), Shape.Intermediate, Shape.Hidden),
                MlpProjection.Up => (DenseTensorNames.Mlp(layer, DenseTensorNames.UpProjection), Shape.Intermediate, Shape.Hidden),
                _ => (DenseTensorNames.Mlp(layer, DenseTensorNames.DownProjection), Shape.Hidden, Shape.Intermediate),
            };
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

        public void Dispose() => checkpoint?.Dispose();
    }
}
