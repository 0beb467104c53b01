using LlamaMoe.Modeling.Calibration;
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
public sealed class TokenRouterInitStep : CalibratedRouterInitStep<RouterInitOptions>
{
    /// <inheritdoc />
    protected override string InitName => "tokens";

    /// <inheritdoc />
    protected override (Tensor Router, Tensor? Assignment) InitializeLayer(LayerCalibration layer, RouterInitOptions options, long layerSeed, Device device) =>
        (RouterInitialization.RandomTokenRows(layer.HiddenStates, options.Experts, layerSeed), null); // (E, H)
}
