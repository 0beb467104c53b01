namespace LlamaMoe.Pipeline;

/// <summary>The run's random seeds: one pipeline seed drives everything random.</summary>
public interface ISeedSource
{
    /// <summary>The pipeline seed (<c>seed:</c>, default 0).</summary>
    int Seed { get; }

    /// <summary>A stable seed derived from the pipeline seed and a purpose string (for example a stage id).</summary>
    int Derive(string purpose);
}
