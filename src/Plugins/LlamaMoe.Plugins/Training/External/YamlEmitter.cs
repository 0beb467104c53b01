using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>Block-style YAML for a JSON tree (strings double-quoted with JSON escapes, which YAML reads the same).</summary>
public static class YamlEmitter
{
    /// <summary>The YAML document for <paramref name="root"/> (a mapping).</summary>
    public static string Emit(JsonObject root, string? header = null)
    {
        var builder = new StringBuilder();
        if (header is not null)
        {
            foreach (var line in header.Split('\n'))
            {
                builder.Append("# ").Append(line).Append('\n');
            }
        }

        WriteMapping(builder, root, 0);
        return builder.ToString();
    }

    private static void WriteMapping(StringBuilder builder, JsonObject map, int indent)
    {
        foreach (var (key, value) in map)
        {
            builder.Append(' ', indent).Append(Key(key)).Append(':');
            WriteValue(builder, value, indent);
        }
    }

    private static void WriteValue(StringBuilder builder, JsonNode? value, int indent)
    {
        switch (value)
        {
            case JsonObject { Count: 0 }:
                builder.Append(" {}\n");
                break;
            case JsonObject nested:
                builder.Append('\n');
                WriteMapping(builder, nested, indent + 2);
                break;
            case JsonArray { Count: 0 }:
                builder.Append(" []\n");
                break;
            case JsonArray items:
                builder.Append('\n');
                foreach (var item in items)
                {
                    builder.Append(' ', indent + 2).Append('-');
                    if (item is JsonObject { Count: > 0 } element)
                    {
                        var first = true;
                        foreach (var (key, inner) in element)
                        {
                            builder.Append(first ? " " : new string(' ', indent + 4)).Append(Key(key)).Append(':');
                            WriteValue(builder, inner, indent + 4);
                            first = false;
                        }
                    }
                    else
                    {
                        WriteValue(builder, item, indent + 2);
                    }
                }

                break;
            default:
                builder.Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static string Key(string key) => key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/') ? key : JsonSerializer.Serialize(key);

    private static string Scalar(JsonNode? value) => value switch
    {
        null => "null",
        JsonValue v when v.TryGetValue<string>(out var text) => JsonSerializer.Serialize(text, BundleFiles.Indented),
        JsonValue v when v.TryGetValue<bool>(out var flag) => flag ? "true" : "false",
        JsonValue v when v.TryGetValue<long>(out var integer) => integer.ToString(CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<double>(out var number) => number.ToString("R", CultureInfo.InvariantCulture),
        _ => value.ToJsonString(),
    };
}
