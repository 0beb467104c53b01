using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training;

/// <summary>
/// <c>train</c>: trains a Mixture-of-Experts model (LLaMA-MoE stage 1, stage 2 or continual pre-training) and publishes the trained
/// moe-model. A dense-model stage in needs may only be the <c>distill:</c> teacher. Chat data is masked to the assistant turns by the chat template. For a dense model use <c>train-dense</c>.
/// </summary>
[PipelineStep("train", typeof(TrainOptions), Description = "Train a MoE model (SFT stage 1/2, continual pre-training) with resume, metrics.jsonl and loss.png.", Version = "1",
    Consumes = [ArtifactKinds.MoeModel, ArtifactKinds.DenseModel, ArtifactKinds.Dataset, ArtifactKinds.Files], Produces = ArtifactKinds.MoeModel)]
public sealed class TrainStep : PipelineStep<TrainOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, TrainOptions options, CancellationToken cancellationToken) =>
        ModelTrainingRun.RunAsync(context, options, ArtifactKinds.MoeModel, cancellationToken);
}
