namespace LlamaMoe.Modeling.Data;

/// <summary>One data source of a training stage.</summary>
/// <param name="Path">The file (a <c>.gz</c> suffix is decompressed).</param>
/// <param name="Format">Its layout.</param>
/// <param name="Weight">Its share of the stage's mixture (relative to the other sources' weights; must be positive).</param>
public sealed record DataSourceSpec(string Path, DataFormat Format, double Weight = 1.0);
