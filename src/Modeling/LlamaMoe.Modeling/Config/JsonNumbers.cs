using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Modeling.Config;

/// <summary>
/// The one reading of JSON numbers shared by the config readers (<see cref="ConfigValueReader"/>, the MoE key reader and
/// the attention-MoE options): a number node read through its JSON text, so a parsed value and an in-memory
/// <c>JsonValue&lt;int&gt;</c> read alike; an integer is a number with an integral value inside the <c>int</c> range.
/// </summary>
internal static class JsonNumbers
{
    /// <summary>The node's value when it is a JSON number (possibly infinite when it overflows a double), else null.</summary>
    public static double? Number(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? d
            : null;

    /// <summary>The node's value when it is a JSON number with an integral value in the <c>int</c> range, else null.</summary>
    public static int? Integer(JsonNode? node) =>
        Number(node) is { } d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue ? (int)d : null;
}
