using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LlamaMoe.Plugins.Tests.Kubernetes;

/// <summary>The JSON types an OpenAPI v3 <c>type</c> names, decided on the value's JSON form (a C# int and a YAML integer agree).</summary>
internal static class JsonTypes
{
    /// <summary>Whether <paramref name="value"/> is of OpenAPI type <paramref name="type"/>.</summary>
    public static bool Is(string type, JsonNode value) => type switch
    {
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => IsString(value),
        "integer" => IsInteger(value),
        "number" => value is JsonValue number && number.GetValueKind() == JsonValueKind.Number,
        "boolean" => value is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        _ => throw new InvalidDataException($"unknown OpenAPI type '{type}' in the schema"),
    };

    /// <summary>Whether <paramref name="value"/> is a JSON string.</summary>
    public static bool IsString(JsonNode value) => value is JsonValue text && text.GetValueKind() == JsonValueKind.String;

    /// <summary>Whether <paramref name="value"/> is a number without a fractional part.</summary>
    public static bool IsInteger(JsonNode value) =>
        value is JsonValue number && number.GetValueKind() == JsonValueKind.Number && Math.Floor(AsDouble(number)) == AsDouble(number);

    /// <summary>The number as a double (through its JSON text, whatever CLR type holds it).</summary>
    public static double AsDouble(JsonValue number) => double.Parse(number.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>The value's JSON type and, for scalars, its JSON text, for messages.</summary>
    public static string Describe(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ when IsString(value) => "string " + value.ToJsonString(),
        _ when IsInteger(value) => "integer " + value.ToJsonString(),
        JsonValue number when number.GetValueKind() == JsonValueKind.Number => "number " + value.ToJsonString(),
        _ => "boolean " + value.ToJsonString(),
    };
}

/// <summary>The keywords that constrain a string or a number: pattern, min/maxLength, minimum/maximum, multipleOf, format.</summary>
internal static class SchemaScalarChecks
{
    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    /// <summary>Reports through <paramref name="add"/> every scalar keyword of <paramref name="schema"/> that <paramref name="value"/> breaks.</summary>
    public static void Check(JsonObject schema, JsonValue value, string path, Action<string, string> add)
    {
        if (JsonTypes.IsString(value))
        {
            CheckString(schema, value.GetValue<string>(), path, add);
        }
        else if (value.GetValueKind() == JsonValueKind.Number)
        {
            CheckNumber(schema, JsonTypes.AsDouble(value), path, add);
        }
    }

    private static void CheckString(JsonObject schema, string text, string path, Action<string, string> add)
    {
        var length = text.EnumerateRunes().Count(); // Kubernetes counts characters (runes), not UTF-16 units
        if (schema["minLength"] is JsonValue min && length < min.GetValue<long>())
        {
            add(path, $"string of length {length}, shorter than minLength {min}");
        }

        if (schema["maxLength"] is JsonValue max && length > max.GetValue<long>())
        {
            add(path, $"string of length {length}, longer than maxLength {max}");
        }

        if (schema["pattern"] is JsonValue pattern)
        {
            var regex = Patterns.GetOrAdd(pattern.GetValue<string>(), p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
            if (!regex.IsMatch(text))
            {
                add(path, $"\"{text}\" does not match the pattern {pattern}");
            }
        }
    }

    private static void CheckNumber(JsonObject schema, double number, string path, Action<string, string> add)
    {
        var text = number.ToString("R", CultureInfo.InvariantCulture);
        if (schema["minimum"] is JsonValue min)
        {
            var exclusive = schema["exclusiveMinimum"] is JsonValue e && e.GetValueKind() == JsonValueKind.True;
            var bound = JsonTypes.AsDouble(min);
            if (number < bound || (exclusive && number == bound))
            {
                add(path, $"{text} is below the {(exclusive ? "exclusive " : "")}minimum {min}");
            }
        }

        if (schema["maximum"] is JsonValue max)
        {
            var exclusive = schema["exclusiveMaximum"] is JsonValue e && e.GetValueKind() == JsonValueKind.True;
            var bound = JsonTypes.AsDouble(max);
            if (number > bound || (exclusive && number == bound))
            {
                add(path, $"{text} is above the {(exclusive ? "exclusive " : "")}maximum {max}");
            }
        }

        if (schema["multipleOf"] is JsonValue step && Math.IEEERemainder(number, JsonTypes.AsDouble(step)) != 0)
        {
            add(path, $"{text} is not a multiple of {step}");
        }

        var (low, high) = (string?)schema["format"] switch
        {
            "int32" => ((double)int.MinValue, (double)int.MaxValue),
            "int64" => ((double)long.MinValue, (double)long.MaxValue),
            _ => (double.NegativeInfinity, double.PositiveInfinity),
        };
        if (number < low || number > high)
        {
            add(path, $"{text} does not fit format {schema["format"]}");
        }
    }
}
