using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training;

/// <summary>
/// <c>train-dense</c>: the <c>train</c> step for dense models (pre-training from <c>model/init</c>, fine-tuning an imported model);
/// it publishes a dense-model. (A step's artifact kind is fixed, so dense and MoE training are two names for one trainer.)
/// </summary>
[PipelineStep("train-dense", typeof(TrainOptions), Description = "Train a dense model (pre-training or fine-tuning) with resume, metrics.jsonl and loss.png.", Version = "1",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.Dataset, ArtifactKinds.Files], Produces = ArtifactKinds.DenseModel)]
public sealed class TrainDenseStep : PipelineStep<TrainOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, TrainOptions options, CancellationToken cancellationToken) =>
        ModelTrainingRun.RunAsync(context, options, ArtifactKinds.DenseModel, cancellationToken);
}
