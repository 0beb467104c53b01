using System.Reflection;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>Disposal of routing tensors a block recorded, unless the caller moved them into a dispose scope.</summary>
internal static class RecordedTensors
{
    // TorchSharp keeps Tensor.OwningDisposeScope internal; it tells whether a caller moved a recorded tensor into a scope.
    private static readonly PropertyInfo? OwningScope =
        typeof(Tensor).GetProperty("OwningDisposeScope", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    public static void DisposeIfOwned(Tensor? recorded)
    {
        if (recorded is not null && !recorded.IsInvalid && OwningScope?.GetValue(recorded) is null)
        {
            recorded.Dispose();
        }
    }
}
