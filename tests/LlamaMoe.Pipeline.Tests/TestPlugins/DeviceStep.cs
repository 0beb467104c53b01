namespace LlamaMoe.Pipeline.Tests.TestPlugins;

public sealed class DeviceOptions : StepOptions
{
    [Option("The device description the step reports.", Required = true)]
    public string Device { get; set; } = string.Empty;
}

/// <summary>Reports its <c>device</c> option twice (the run must print it once) and writes a fixed out.txt.</summary>
[PipelineStep("test/device", typeof(DeviceOptions), Description = "Reports a device and writes fixed content.", Version = "1")]
public sealed class DeviceStep : PipelineStep<DeviceOptions>
{
    protected override async Task RunAsync(IStepContext context, DeviceOptions options, CancellationToken cancellationToken)
    {
        context.ReportDevice(options.Device);
        context.ReportDevice(options.Device);
        await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), "same content", cancellationToken);
    }
}
