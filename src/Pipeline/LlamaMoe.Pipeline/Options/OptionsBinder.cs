using System.Collections;
using System.Globalization;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Yaml;

namespace LlamaMoe.Pipeline.Options;

/// <summary>
/// Binds a stage's <c>with:</c> mapping to its options class, reporting unknown keys (with suggestions), missing
/// required keys, type errors, ranges and enum values as located diagnostics. Paths are resolved against the
/// pipeline folder; input paths are collected for content digests.
/// </summary>
public sealed class OptionsBinder
{
    private readonly string pipelineDirectory;
    private readonly Interpolator interpolator;
    private readonly IReadOnlySet<string> allowedStages;
    private readonly ICollection<Diagnostic> diagnostics;

    /// <summary>Creates a binder for one stage.</summary>
    public OptionsBinder(string pipelineDirectory, Interpolator interpolator, IReadOnlySet<string> allowedStages, ICollection<Diagnostic> diagnostics)
    {
        this.pipelineDirectory = pipelineDirectory;
        this.interpolator = interpolator;
        this.allowedStages = allowedStages;
        this.diagnostics = diagnostics;
    }

    /// <summary>True when some value needed a stage output that is not known yet (only before running).</summary>
    public bool Deferred { get; private set; }

    /// <summary>Value locations by dotted key path, for mapping step problems to places.</summary>
    public Dictionary<string, SourceLocation> Locations { get; } = new(StringComparer.Ordinal);

    /// <summary>Input path options: dotted key path and full path.</summary>
    public List<KeyValuePair<string, string>> InputPaths { get; } = [];

    /// <summary>Binds <paramref name="with"/> (may be null) to a new instance of <paramref name="optionsType"/>.</summary>
    public StepOptions Bind(Type optionsType, YMapping? with, SourceLocation stageLocation) =>
        (StepOptions)BindObject(optionsType, with, with?.Location ?? stageLocation, string.Empty);

    private object BindObject(Type type, YMapping? mapping, SourceLocation location, string prefix)
    {
        var instance = Activator.CreateInstance(type)!;
        var properties = OptionProperty.Of(type);
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in mapping?.Entries ?? [])
        {
            var property = properties.FirstOrDefault(p => p.Key == key.Value);
            if (property is null)
            {
                diagnostics.Add(key.Location.Error(DiagnosticCodes.UnknownOption, $"unknown option '{prefix}{key.Value}'",
                    Suggestions.DidYouMean(key.Value, properties.Select(p => p.Key)) ?? (properties.Count == 0 ? "This step takes no options." : "Options are: " + string.Join(", ", properties.Select(p => p.Key)) + ".")));
                continue;
            }

            present.Add(property.Key);
            Locations[prefix + property.Key] = value.Location;
            if (Convert(value, property.Property.PropertyType, property.Attribute, prefix + property.Key, out var converted))
            {
                property.Property.SetValue(instance, converted);
            }
        }

        foreach (var property in properties.Where(p => p.Attribute.Required && !present.Contains(p.Key)))
        {
            diagnostics.Add(location.Error(DiagnosticCodes.MissingOption, $"required option '{prefix}{property.Key}' is missing",
                string.IsNullOrEmpty(property.Attribute.Description) ? null : $"Add '{property.Key}': {property.Attribute.Description}"));
        }

        return instance;
    }

    private bool Convert(YNode node, Type type, OptionAttribute attribute, string key, out object? value)
    {
        value = null;
        var underlying = Nullable.GetUnderlyingType(type);
        if (node is YScalar { IsNull: true } && (underlying is not null || !type.IsValueType))
        {
            return true;
        }

        type = underlying ?? type;
        if (OptionProperty.ListElement(type) is { } element)
        {
            if (node is not YSequence sequence)
            {
                return TypeError(node, key, "a list");
            }

            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            var ok = true;
            for (var i = 0; i < sequence.Items.Count; i++)
            {
                Locations[$"{key}[{i}]"] = sequence.Items[i].Location;
                if (Convert(sequence.Items[i], element, attribute, $"{key}[{i}]", out var item))
                {
                    list.Add(item);
                }
                else
                {
                    ok = false; // reported (or deferred); a value-type list cannot hold the missing item
                }
            }

            if (type.IsArray)
            {
                var array = Array.CreateInstance(element, list.Count);
                list.CopyTo(array, 0);
                value = array;
            }
            else
            {
                value = list;
            }

            return ok;
        }

        if (OptionProperty.IsStringMap(type))
        {
            if (node is not YMapping map)
            {
                return TypeError(node, key, "a mapping");
            }

            var dictionary = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (entryKey, entryValue) in map.Entries)
            {
                if (entryValue is not YScalar s)
                {
                    return TypeError(entryValue, key + "." + entryKey.Value, "a scalar");
                }

                dictionary[entryKey.Value] = Expand(s, out _) ?? string.Empty;
            }

            value = dictionary;
            return true;
        }

        if (OptionProperty.IsObject(type))
        {
            if (node is not YMapping nested)
            {
                return TypeError(node, key, "a mapping");
            }

            value = BindObject(type, nested, nested.Location, key + ".");
            return true;
        }

        if (node is not YScalar scalar)
        {
            return TypeError(node, key, type == typeof(string) ? "a string" : "a scalar");
        }

        var text = Expand(scalar, out var deferred);
        if (deferred || text is null)
        {
            return false;
        }

        return ConvertScalar(scalar, text, type, attribute, key, out value);
    }

    private bool ConvertScalar(YScalar scalar, string text, Type type, OptionAttribute attribute, string key, out object? value)
    {
        value = null;
        if (type == typeof(string))
        {
            if (attribute.Path != OptionPathKind.None)
            {
                text = Path.GetFullPath(Path.Combine(pipelineDirectory, text));
                if (attribute.Path == OptionPathKind.Input)
                {
                    InputPaths.Add(new(key, text));
                }
            }

            value = text;
            return true;
        }

        if (scalar.Quoted && !scalar.Value.Contains("${", StringComparison.Ordinal) && (type == typeof(bool) || IsNumber(type)))
        {
            // "4" is a string in YAML; only a plain scalar (or a ${...} value) may stand for a number or a boolean.
            var expected = type == typeof(bool) ? "true or false" : type == typeof(int) || type == typeof(long) ? "an integer" : "a number";
            diagnostics.Add(scalar.Location.Error(DiagnosticCodes.OptionType, $"option '{key}' must be {expected}; found the quoted string \"{text}\"",
                "Write the value without quotes."));
            return false;
        }

        if (type == typeof(bool))
        {
            if (text is "true" or "false")
            {
                value = text == "true";
                return true;
            }

            return TypeError(scalar, key, "true or false", text);
        }

        if (type.IsEnum)
        {
            var names = Enum.GetNames(type).Select(KebabCase.From).ToList();
            var index = names.IndexOf(text);
            if (index < 0)
            {
                diagnostics.Add(scalar.Location.Error(DiagnosticCodes.OptionEnum, $"option '{key}' must be one of {string.Join(", ", names)}; found '{text}'", Suggestions.DidYouMean(text, names)));
                return false;
            }

            value = Enum.GetValues(type).GetValue(index);
            return true;
        }

        double number;
        if (type == typeof(int) || type == typeof(long))
        {
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                || (type == typeof(int) && integer is > int.MaxValue or < int.MinValue))
            {
                return TypeError(scalar, key, "an integer", text);
            }

            number = integer;
            value = type == typeof(int) ? (object)(int)integer : integer;
        }
        else if (type == typeof(double) || type == typeof(float))
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number) || !double.IsFinite(number))
            {
                return TypeError(scalar, key, "a number", text);
            }

            value = type == typeof(float) ? (object)(float)number : number;
        }
        else
        {
            diagnostics.Add(scalar.Location.Error(DiagnosticCodes.PluginBadOptionsType, $"option '{key}' has unsupported type {type.Name}", "Plugin authors: use string, bool, numbers, enums, lists, maps or nested option classes."));
            return false;
        }

        if ((!double.IsNaN(attribute.Minimum) && number < attribute.Minimum) || (!double.IsNaN(attribute.Maximum) && number > attribute.Maximum))
        {
            var range = (double.IsNaN(attribute.Minimum), double.IsNaN(attribute.Maximum)) switch
            {
                (false, false) => $"between {Format(attribute.Minimum)} and {Format(attribute.Maximum)}",
                (false, true) => $"at least {Format(attribute.Minimum)}",
                _ => $"at most {Format(attribute.Maximum)}",
            };
            diagnostics.Add(scalar.Location.Error(DiagnosticCodes.OptionRange, $"option '{key}' must be {range}; found {text}"));
            value = null;
            return false;
        }

        return true;
    }

    private string? Expand(YScalar scalar, out bool deferred)
    {
        var count = diagnostics.Count;
        var text = interpolator.Expand(scalar.Value, scalar.Location, allowedStages, diagnostics);
        deferred = text is null && diagnostics.Count == count;
        Deferred |= deferred;
        return text;
    }

    private bool TypeError(YNode node, string key, string expected, string? found = null)
    {
        diagnostics.Add(node.Location.Error(DiagnosticCodes.OptionType, $"option '{key}' must be {expected}; found {(found is null ? node.KindName : $"'{found}'")}"));
        return false;
    }

    private static bool IsNumber(Type type) => type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(float);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
