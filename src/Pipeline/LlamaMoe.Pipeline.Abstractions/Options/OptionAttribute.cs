namespace LlamaMoe.Pipeline;

/// <summary>Describes one option property: documentation, required-ness, numeric range and path handling.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class OptionAttribute : Attribute
{
    /// <summary>Creates the attribute with a description.</summary>
    public OptionAttribute(string description = "")
    {
        Description = description;
    }

    /// <summary>The description shown by <c>llama-moe plugins</c> and in the JSON schema.</summary>
    public string Description { get; }

    /// <summary>The key must be present.</summary>
    public bool Required { get; set; }

    /// <summary>Inclusive minimum for numbers (NaN: none).</summary>
    public double Minimum { get; set; } = double.NaN;

    /// <summary>Inclusive maximum for numbers (NaN: none).</summary>
    public double Maximum { get; set; } = double.NaN;

    /// <summary>How a string value names a path. Input paths are resolved and their content digested into the stage key.</summary>
    public OptionPathKind Path { get; set; } = OptionPathKind.None;

    /// <summary>How the value enters the stage key (default: always). Launch-only settings use <see cref="OptionKeyUse.Never"/>.</summary>
    public OptionKeyUse Key { get; set; } = OptionKeyUse.Always;
}

/// <summary>Whether an option's value is part of the stage's content key.</summary>
public enum OptionKeyUse
{
    /// <summary>Always hashed (null included).</summary>
    Always,

    /// <summary>Hashed only when set (not null), so adding a new optional block leaves existing keys unchanged.</summary>
    WhenSet,

    /// <summary>Never hashed: a launch-only setting (queue, account, time limit, world size) that does not change the result.</summary>
    Never,
}

/// <summary>Whether and how a string option is a path.</summary>
public enum OptionPathKind
{
    /// <summary>Not a path.</summary>
    None,

    /// <summary>A file or folder the step reads: resolved against the pipeline folder; its content is part of the stage key.</summary>
    Input,

    /// <summary>A path resolved against the pipeline folder whose content is not digested.</summary>
    Other,
}
