using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Construction;

/// <summary><c>router-init/tokens</c>: every layer's router rows are E distinct calibration hidden states drawn at random (seeded).</summary>
[PipelineStep("router-init/tokens", typeof(RouterInitOptions),
    Description = "Initialise routers with randomly drawn calibration hidden states (one token row per expert).",
    Version = "2",
    Consumes = [ArtifactKinds.Calibration],
    Produces = ArtifactKinds.RouterWeights)]
public sealed class TokenRouterInitStep : CalibratedRouterInitStep<RouterInitOptions>
{
    /// <inheritdoc />
    protected override string MethodName => "tokens";
}
