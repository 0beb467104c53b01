using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Safetensors;

/// <summary>
/// An open safetensors file whose header has been validated. Tensors are read one at a time: an empty tensor of the
/// right shape and dtype is allocated and the file bytes are read straight into its storage (no staging buffer).
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly FileStream stream;
    private readonly long dataStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> tensors;

    private SafetensorsFile(string path, FileStream stream)
    {
        Path = path;
        this.stream = stream;
        var (entries, metadata, start) = SafetensorsHeaderParser.Parse(stream, path);
        tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            tensors[entry.Name] = entry;
        }

        Metadata = metadata;
        dataStart = start;
    }

    /// <summary>The file path.</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor entries by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors => tensors;

    /// <summary>Opens and validates a file; throws a coded <see cref="LlamaMoeException"/> for any damage.</summary>
    public static SafetensorsFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            return new SafetensorsFile(path, stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads one tensor (on the CPU, then moved to <paramref name="device"/> when given).</summary>
    public Tensor Read(string name, Device? device = null)
    {
        if (!tensors.TryGetValue(name, out var info))
        {
            throw new LlamaMoeException(FormatErrorCodes.TensorNotFound, $"tensor '{name}' is not in the file", Path, name);
        }

        var tensor = torch.empty(info.Shape, info.ScalarType);
        try
        {
            ReadInto(tensor, info);
            if (device is null || device.type == DeviceType.CPU)
            {
                return tensor;
            }

            var moved = tensor.to(device);
            tensor.Dispose();
            return moved;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private void ReadInto(Tensor tensor, SafetensorsTensorInfo info)
    {
        if (info.ByteCount == 0)
        {
            return;
        }

        if (info.ByteCount > int.MaxValue)
        {
            throw new LlamaMoeException(FormatErrorCodes.UnwritableTensor, $"tensor '{info.Name}' is larger than 2 GiB, which this reader does not support", Path, info.Name);
        }

        stream.Position = dataStart + info.Begin;
        // For a contiguous CPU tensor, bytes is a span over the tensor's own storage: the file is read straight into it.
        stream.ReadExactly(tensor.bytes);
    }

    /// <inheritdoc />
    public void Dispose() => stream.Dispose();
}
