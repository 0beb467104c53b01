namespace LlamaMoe.Pipeline.Services;

/// <summary>Resolves <c>auto|cpu|cuda</c> to a device kind.</summary>
public sealed class DeviceSelection : IDeviceSelection
{
    /// <summary>Creates the selection.</summary>
    public DeviceSelection(string requested, Func<bool> cudaAvailable)
    {
        Requested = requested;
        Kind = DeviceNames.Resolve(requested, cudaAvailable);
    }

    /// <inheritdoc />
    public string Requested { get; }

    /// <inheritdoc />
    public string Kind { get; }
}
