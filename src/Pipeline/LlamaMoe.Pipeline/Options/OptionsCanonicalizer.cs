using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlamaMoe.Pipeline.Options;

/// <summary>
/// The canonical JSON form of bound options (keys sorted ordinally, launch-only options left out, invariant numbers, enums by kebab name,
/// paths relative to the pipeline folder with '/'): what the stage key hashes, so formatting, comments and key order
/// in the YAML never change a key.
/// </summary>
public static class OptionsCanonicalizer
{
    /// <summary>The canonical JSON text.</summary>
    public static string ToCanonicalJson(StepOptions options, string pipelineDirectory)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteObject(writer, options, pipelineDirectory);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteObject(Utf8JsonWriter writer, object value, string directory)
    {
        writer.WriteStartObject();
        foreach (var property in OptionProperty.Of(value.GetType()))
        {
            var propertyValue = property.Property.GetValue(value);
            if (property.Attribute.Key == OptionKeyUse.Never || (property.Attribute.Key == OptionKeyUse.WhenSet && propertyValue is null))
            {
                continue;
            }

            writer.WritePropertyName(property.Key);
            WriteValue(writer, propertyValue, property.Attribute, directory);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, OptionAttribute attribute, string directory)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text when attribute.Path != OptionPathKind.None:
                writer.WriteStringValue(Path.GetRelativePath(directory, text).Replace('\\', '/'));
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case int or long:
                writer.WriteRawValue(System.Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                break;
            case float single:
                writer.WriteRawValue(((double)single).ToString("R", CultureInfo.InvariantCulture));
                break;
            case double number:
                writer.WriteRawValue(number.ToString("R", CultureInfo.InvariantCulture));
                break;
            case Enum member:
                writer.WriteStringValue(KebabCase.From(member.ToString()));
                break;
            case IDictionary map:
                writer.WriteStartObject();
                foreach (var key in map.Keys.Cast<string>().OrderBy(k => k, StringComparer.Ordinal))
                {
                    writer.WriteString(key, (string?)map[key]);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(writer, item, attribute, directory);
                }

                writer.WriteEndArray();
                break;
            default:
                WriteObject(writer, value, directory);
                break;
        }
    }
}
