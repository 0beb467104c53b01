using LlamaMoe.Construction;
namespace LlamaMoe.Pipeline.Tests.TestPlugins;

public sealed class PartitionConsumerOptions : StepOptions
{
}

/// <summary>Consumes only expert partitions (for the artifact-kind check).</summary>
[PipelineStep("test/needs-partition", typeof(PartitionConsumerOptions), Description = "Reads an expert partition.", Consumes = [ArtifactKinds.ExpertPartition])]
public sealed class PartitionConsumerStep : PipelineStep<PartitionConsumerOptions>
{
    protected override Task RunAsync(IStepContext context, PartitionConsumerOptions options, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "count.txt"), context.Inputs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
}
