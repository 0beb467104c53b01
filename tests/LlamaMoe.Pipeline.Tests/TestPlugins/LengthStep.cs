namespace LlamaMoe.Pipeline.Tests.TestPlugins;

public sealed class LengthOptions : StepOptions
{
}

/// <summary>Writes the length of its input's out.txt: equal lengths give equal artifacts (for the early cut-off test).</summary>
[PipelineStep("test/length", typeof(LengthOptions), Description = "Writes the length of its input's text.", Consumes = [ArtifactKinds.Files])]
public sealed class LengthStep : PipelineStep<LengthOptions>
{
    protected override async Task RunAsync(IStepContext context, LengthOptions options, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(context.Inputs[0].File("out.txt"), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
    }
}
