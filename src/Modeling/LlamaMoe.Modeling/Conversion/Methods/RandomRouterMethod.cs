using LlamaMoe.Modeling.Construction;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion.Methods;

/// <summary><c>random</c>: Kaiming-uniform router rows U(−1/√H, 1/√H) (the nn.Linear default), seeded per layer.</summary>
public sealed class RandomRouterMethod : IRouterMethod
{
    /// <inheritdoc />
    public string Name => "random";

    /// <inheritdoc />
    public bool NeedsCalibration => false;

    /// <inheritdoc />
    public bool NeedsCentroids => false;

    /// <inheritdoc />
    public RouterInit Initialize(RouterRequest request)
    {
        using var generator = new Generator(unchecked((ulong)request.Seed));
        return new RouterInit(RouterInitialization.KaimingUniform(request.Experts, request.Hidden, generator), null); // (E, H)
    }
}
