using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>Reads every tensor of a model directory's safetensors weights (float32, CPU), in file order.</summary>
internal static class CheckpointTensors
{
    public static List<KeyValuePair<string, Tensor>> ReadAll(string directory)
    {
        using var checkpoint = ShardedCheckpoint.Open(directory);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var name in checkpoint.Names)
            {
                using var raw = checkpoint.Read(name);
                tensors.Add(new(name, raw.to_type(ScalarType.Float32).clone()));
            }

            return tensors;
        }
        catch
        {
            foreach (var (_, t) in tensors)
            {
                t.Dispose();
            }

            throw;
        }
    }
}
