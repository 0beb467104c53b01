namespace LlamaMoe.Pipeline;

/// <summary>The device the run uses, chosen from the pipeline's <c>device:</c> (<c>auto</c>, <c>cpu</c> or <c>cuda</c>).</summary>
public interface IDeviceSelection
{
    /// <summary>What the pipeline asked for: <c>auto</c>, <c>cpu</c> or <c>cuda</c>.</summary>
    string Requested { get; }

    /// <summary>The resolved kind: <c>cpu</c> or <c>cuda</c>. Part of every stage key.</summary>
    string Kind { get; }
}
