using LlamaMoe.Modeling.Construction;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>tokens</c>: router rows are E distinct calibration hidden states drawn at random (seeded per layer).</summary>
public sealed class TokenRouterMethod : IRouterMethod
{
    /// <inheritdoc />
    public string Name => "tokens";

    /// <inheritdoc />
    public bool NeedsCalibration => true;

    /// <inheritdoc />
    public bool NeedsCentroids => false;

    /// <inheritdoc />
    public RouterInit Initialize(RouterRequest request) =>
        new(RouterInitialization.RandomTokenRows(request.RequireCalibration().HiddenStates, request.Experts, request.Seed), null); // (E, H)
}
