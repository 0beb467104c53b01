using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Construction;
using LlamaMoe.Pipeline;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary><c>router-init/tokens</c>: every layer's router rows are E distinct calibration hidden states drawn at random (seeded).</summary>
[PipelineStep("router-init/tokens", typeof(RouterInitOptions),
    Description = "Initialise routers with randomly drawn calibration hidden states (one token row per expert).",
    Version = "1",
    Consumes = [ArtifactKinds.Calibration],
    Produces = ArtifactKinds.RouterWeights)]
public sealed class TokenRouterInitStep : PipelineStep<RouterInitOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, RouterInitOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TorchRuntime.EnsureLoaded();
        using var calibration = CalibrationInput.Load(context, "its hidden states");
        var seed = options.ResolveSeed(context);
        using var scope = NewDisposeScope();
        var weights = new List<Tensor>();
        for (var layer = 0; layer < calibration.Layers.Count; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            weights.Add(RouterInitialization.RandomTokenRows(calibration.Layers[layer].HiddenStates, options.Experts, seed + layer)); // (E, H)
        }

        RouterWeightsArtifact.Write(context.OutputDirectory, "tokens", weights);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
