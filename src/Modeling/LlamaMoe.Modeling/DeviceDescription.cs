using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling;

/// <summary>
/// One line naming the device and number type a computation runs on, for run output and stage records:
/// <c>cuda:0 NVIDIA H200, bfloat16</c> or <c>cpu (2 threads), float32</c>.
/// </summary>
public static class DeviceDescription
{
    /// <summary>Describes <paramref name="device"/> computing in <paramref name="dtype"/>; loads libtorch if needed.</summary>
    public static string Of(Device device, ScalarType dtype)
    {
        TorchRuntime.EnsureLoaded();
        var type = DtypeName(dtype);
        if (device.type != DeviceType.CUDA)
        {
            var threads = get_num_threads();
            return $"{device.type.ToString().ToLowerInvariant()} ({threads} thread{(threads == 1 ? string.Empty : "s")}), {type}";
        }

        // A device without an index is the current CUDA device, which LlamaMoe never changes from 0.
        var index = device.index < 0 ? 0 : device.index;
        var name = CudaDevices.Query().Devices.FirstOrDefault(d => d.Index == index)?.Name;
        return name is null ? $"cuda:{index}, {type}" : $"cuda:{index} {name}, {type}";
    }

    /// <summary>The PyTorch spelling of a dtype: <c>float32</c>, <c>bfloat16</c>, ...</summary>
    public static string DtypeName(ScalarType dtype) => dtype.ToString().ToLowerInvariant();
}
