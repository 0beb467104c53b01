using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace LlamaMoe.Plugins.Tests.Kubernetes;

/// <summary>
/// Reads one YAML document into a <see cref="JsonNode"/> tree with the YAML 1.2 core schema, as Kubernetes' YAML decoder
/// does: a quoted (or block) scalar is a string; a plain scalar is null, a boolean, an integer or a float when it looks
/// like one, else a string; <c>!!str</c>, <c>!!int</c>, <c>!!bool</c> and <c>!!float</c> tags are honoured. So a manifest
/// that writes <c>nprocPerNode: "2"</c> yields a string and <c>replicas: 1</c> an integer, which is what the schema walk
/// must see. For test data and generated files only: no depth limit, aliases are refused.
/// </summary>
internal static partial class YamlJsonReader
{
    /// <summary>The single document in <paramref name="text"/> (null for an empty one).</summary>
    public static JsonNode? Read(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        if (parser.TryConsume<StreamEnd>(out _))
        {
            return null;
        }

        parser.Consume<DocumentStart>();
        var root = parser.Accept<DocumentEnd>(out _) ? null : ReadNode(parser);
        parser.Consume<DocumentEnd>();
        if (!parser.Accept<StreamEnd>(out _))
        {
            throw new InvalidDataException("expected one YAML document, found a second one");
        }

        return root;
    }

    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    public static JsonNode? ReadFile(string path) => Read(File.ReadAllText(path));

    private static JsonNode? ReadNode(IParser parser)
    {
        switch (parser.Current)
        {
            case AnchorAlias alias:
                throw new InvalidDataException($"YAML alias *{alias.Value} at {alias.Start}: not supported here");
            case Scalar scalar:
                parser.MoveNext();
                return ScalarValue(scalar);
            case SequenceStart:
                parser.MoveNext();
                var items = new JsonArray();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    items.Add(ReadNode(parser));
                }

                return items;
            case MappingStart:
                parser.MoveNext();
                var map = new JsonObject();
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var keyEvent = parser.Consume<Scalar>();
                    var value = ReadNode(parser);
                    if (!map.TryAdd(keyEvent.Value, value))
                    {
                        throw new InvalidDataException($"duplicate key '{keyEvent.Value}' at {keyEvent.Start}");
                    }
                }

                return map;
            default:
                throw new InvalidDataException($"unexpected YAML event {parser.Current}");
        }
    }

    private static JsonNode? ScalarValue(Scalar scalar)
    {
        var text = scalar.Value;
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag == "tag:yaml.org,2002:str" || (tag is null && scalar.Style != ScalarStyle.Plain))
        {
            return JsonValue.Create(text);
        }

        if (tag is null or "tag:yaml.org,2002:null" && (text is "" or "~" || NullWord().IsMatch(text)))
        {
            return null;
        }

        if (BoolWord().IsMatch(text) && tag is null or "tag:yaml.org,2002:bool")
        {
            return JsonValue.Create(text[0] is 't' or 'T');
        }

        if (IntegerWord().IsMatch(text) && tag is null or "tag:yaml.org,2002:int")
        {
            return Number(ParseInteger(text));
        }

        if (FloatWord().IsMatch(text) && tag is null or "tag:yaml.org,2002:float")
        {
            return Number(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        return tag is null or "tag:yaml.org,2002:str"
            ? JsonValue.Create(text)
            : throw new InvalidDataException($"scalar '{text}' at {scalar.Start} does not match its tag {tag}");
    }

    /// <summary>A number backed by a JSON element, so GetValue&lt;int&gt;, &lt;long&gt; and &lt;double&gt; all work as on a parsed document.</summary>
    private static JsonValue Number<T>(T value) => JsonValue.Create(JsonSerializer.SerializeToElement(value))!;

    private static long ParseInteger(string text) => text switch
    {
        _ when text.StartsWith("0x", StringComparison.Ordinal) => long.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        _ when text.StartsWith("0o", StringComparison.Ordinal) => Convert.ToInt64(text[2..], 8),
        _ => long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("^(null|Null|NULL)$")]
    private static partial Regex NullWord();

    [GeneratedRegex("^(true|True|TRUE|false|False|FALSE)$")]
    private static partial Regex BoolWord();

    [GeneratedRegex("^([-+]?[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$")]
    private static partial Regex IntegerWord();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatWord();
}
