using LlamaMoe.Pipeline.Diagnostics;

namespace LlamaMoe.Pipeline.Yaml;

/// <summary>A node of a pipeline file read by <see cref="SafeYamlReader"/>, with its location.</summary>
public abstract record YNode(SourceLocation Location)
{
    /// <summary>"a mapping", "a list" or "a scalar", for messages.</summary>
    public abstract string KindName { get; }
}

/// <summary>A scalar; <see cref="Quoted"/> distinguishes <c>"1"</c> from <c>1</c>.</summary>
public sealed record YScalar(SourceLocation Location, string Value, bool Quoted) : YNode(Location)
{
    /// <inheritdoc />
    public override string KindName => "a scalar";

    /// <summary>True for an unquoted <c>null</c>, <c>~</c> or empty value.</summary>
    public bool IsNull => !Quoted && Value is "" or "~" or "null" or "Null" or "NULL";
}

/// <summary>A sequence.</summary>
public sealed record YSequence(SourceLocation Location, IReadOnlyList<YNode> Items) : YNode(Location)
{
    /// <inheritdoc />
    public override string KindName => "a list";
}

/// <summary>A mapping with unique scalar keys, in file order.</summary>
public sealed record YMapping(SourceLocation Location, IReadOnlyList<KeyValuePair<YScalar, YNode>> Entries) : YNode(Location)
{
    /// <inheritdoc />
    public override string KindName => "a mapping";

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public YNode? Get(string key) => Entries.FirstOrDefault(e => e.Key.Value == key).Value;

    /// <summary>The key scalar of <paramref name="key"/>, or null.</summary>
    public YScalar? KeyNode(string key) => Entries.FirstOrDefault(e => e.Key.Value == key).Key;
}
