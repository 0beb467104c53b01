using LlamaMoe.Modeling.Formats.Safetensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// Holds the most recently read dense tensor, so consecutive expert slices of the same matrix read it once; reading
/// another tensor frees the previous one. At most one dense tensor is alive.
/// </summary>
internal sealed class DenseTensorCache(ShardedCheckpoint checkpoint) : IDisposable
{
    private string? name;
    private Tensor? tensor;

    public Tensor Get(string key)
    {
        if (name == key && tensor is not null)
        {
            return tensor;
        }

        Release();
        tensor = checkpoint.Read(key).DetachFromDisposeScope();
        name = key;
        return tensor;
    }

    public void Release()
    {
        tensor?.Dispose();
        tensor = null;
        name = null;
    }

    public void Dispose() => Release();
}
