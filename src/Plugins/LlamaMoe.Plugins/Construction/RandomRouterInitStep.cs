using LlamaMoe.Construction;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>router-init/random</c>: every layer's router <c>(E, H)</c> drawn from U(−1/√H, 1/√H) (Kaiming uniform, the
/// nn.Linear default), seeded per layer by the shared construction seed rule; needs only the dense model's shape.
/// </summary>
[PipelineStep("router-init/random", typeof(RandomRouterInitOptions),
    Description = "Initialise every layer's router (E, H) with seeded Kaiming-uniform weights (nn.Linear default).",
    Version = "2",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.RouterWeights)]
public sealed class RandomRouterInitStep : PipelineStep<RandomRouterInitOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, RandomRouterInitOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ModelArtifacts.HostDevice(context);
        var config = DenseModelConfig.Read(DenseModelConfig.Resolve(context, options.Model));
        using var scope = NewDisposeScope();
        var method = ConstructionMethods.Router("random");
        var seed = options.ResolveSeed(context);
        var weights = new List<Tensor>();
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = new RouterRequest(layer, options.Experts, config.HiddenSize, ConstructionSeed.ForLayer(seed, layer), null);
            weights.Add(method.Initialize(request).Weight); // (E, H)
            context.Progress.Report(layer + 1, config.NumHiddenLayers, $"layer {layer}");
        }

        RouterWeightsArtifact.Write(context.OutputDirectory, "random", weights);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
