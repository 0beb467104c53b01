using System.Globalization;
using System.Text.Json;
using LlamaMoe;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace SnakeSplitter;

/// <summary>
/// The <c>partition/report</c> step: per layer, the expert sizes, the residual size and the balance (smallest expert
/// over largest), written as <c>metrics.json</c>; the mean balance is also a stage output.
/// </summary>
[PipelineStep("partition/report", typeof(PartitionReportOptions),
    Description = "Expert sizes and balance of an expert partition, as metrics.json.",
    Version = "1",
    Consumes = [ArtifactKinds.ExpertPartition],
    Produces = ArtifactKinds.Metrics)]
public sealed class PartitionReportStep : PipelineStep<PartitionReportOptions>
{
    /// <summary>The file written into the artifact.</summary>
    public const string FileName = "metrics.json";

    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, PartitionReportOptions options, CancellationToken cancellationToken)
    {
        var inputs = context.InputsOfKind(ArtifactKinds.ExpertPartition);
        if (inputs.Count != 1)
        {
            throw new LlamaMoeException("SNAKE0001", $"stage '{context.StageId}' needs exactly one expert-partition stage, got {inputs.Count}",
                key: context.StageId, advice: "List one split stage under 'needs'.");
        }

        var partition = ModelPartition.Read(inputs[0].Directory);
        var layers = partition.Layers.Select((layer, index) =>
        {
            var sizes = layer.Experts.Select(e => e.Length).ToArray();
            var balance = sizes.Max() == 0 ? 1.0 : (double)sizes.Min() / sizes.Max();
            return new { layer = index, experts = sizes, residual = layer.Residual?.Length ?? 0, balance = Math.Round(balance, options.Decimals) };
        }).ToList();
        var meanBalance = Math.Round(layers.Count == 0 ? 1.0 : layers.Average(l => l.balance), options.Decimals);
        var report = new { intermediate = partition.Intermediate, mean_balance = meanBalance, layers };
        File.WriteAllText(Path.Combine(context.OutputDirectory, FileName), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        context.Outputs["mean-balance"] = meanBalance.ToString(CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
