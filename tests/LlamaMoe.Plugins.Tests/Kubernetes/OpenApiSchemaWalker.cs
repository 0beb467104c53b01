using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlamaMoe.Plugins.Tests.Kubernetes;

/// <summary>One place where a value breaks its schema, as a kubectl-style field path (<c>spec.trainer.env[1].name</c>).</summary>
internal sealed record SchemaViolation(string Path, string Message)
{
    public override string ToString() => $"{(Path.Length == 0 ? "<root>" : Path)}: {Message}";
}

/// <summary>
/// Walks a value against a Kubernetes structural OpenAPI v3 schema (a CRD's <c>openAPIV3Schema</c>) and collects every
/// violation with its field path. Checked: <c>type</c> (object, array, string, integer, number, boolean), <c>nullable</c>,
/// <c>properties</c>, <c>required</c>, <c>additionalProperties</c> (schema or boolean), min/maxProperties, <c>items</c>,
/// min/maxItems, <c>x-kubernetes-list-type</c> set/map (unique items, map keys present and unique), <c>enum</c>,
/// <c>pattern</c>, min/maxLength, minimum/maximum (with the v3.0 boolean exclusives), <c>multipleOf</c>, <c>format</c>
/// int32/int64, <c>allOf</c>/<c>anyOf</c>/<c>oneOf</c>/<c>not</c>, <c>x-kubernetes-int-or-string</c>,
/// <c>x-kubernetes-preserve-unknown-fields</c> and <c>x-kubernetes-embedded-resource</c>.
/// Unlike the API server, which prunes unknown fields silently, a field a closed object does not declare is a violation
/// (as with <c>kubectl apply --validate=strict</c>). CEL rules (<c>x-kubernetes-validations</c>) are not evaluated; they are
/// listed in <see cref="UncheckedRules"/> so a test can show what was left to the API server.
/// </summary>
internal sealed class OpenApiSchemaWalker
{
    private readonly List<SchemaViolation> violations = [];
    private readonly List<string> uncheckedRules = [];

    /// <summary>The violations found so far.</summary>
    public IReadOnlyList<SchemaViolation> Violations => violations;

    /// <summary>The CEL rules met on the way, as <c>path: rule</c>; not evaluated.</summary>
    public IReadOnlyList<string> UncheckedRules => uncheckedRules;

    /// <summary>Every violation of <paramref name="schema"/> by <paramref name="value"/>.</summary>
    public static IReadOnlyList<SchemaViolation> Validate(JsonObject schema, JsonNode? value)
    {
        var walker = new OpenApiSchemaWalker();
        walker.Walk(schema, value, "");
        return walker.Violations;
    }

    /// <summary>Walks <paramref name="value"/> at <paramref name="path"/> against <paramref name="schema"/>.</summary>
    /// <param name="schema">The schema node.</param>
    /// <param name="value">The value (null for a YAML/JSON null).</param>
    /// <param name="path">The value's field path ("" for the root).</param>
    /// <param name="closed">False inside allOf/anyOf/oneOf/not branches: they constrain values but do not declare fields.</param>
    public void Walk(JsonObject schema, JsonNode? value, string path, bool closed = true)
    {
        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            uncheckedRules.AddRange(rules.Select(rule => $"{Display(path)}: {rule?["rule"]}"));
        }

        if (value is null)
        {
            if (!Flag(schema, "nullable"))
            {
                Add(path, "null is not allowed here (the field is not nullable)");
            }

            return;
        }

        var type = (string?)schema["type"];
        if (Flag(schema, "x-kubernetes-int-or-string"))
        {
            if (!JsonTypes.IsInteger(value) && !JsonTypes.IsString(value))
            {
                Add(path, $"expected an integer or a string, found {JsonTypes.Describe(value)}");
                return;
            }
        }
        else if (type is not null && !JsonTypes.Is(type, value))
        {
            Add(path, $"expected {type}, found {JsonTypes.Describe(value)}");
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(option => JsonNode.DeepEquals(option, value)))
        {
            Add(path, $"{JsonTypes.Describe(value)} is not one of the allowed values [{string.Join(", ", allowed.Select(a => a?.ToJsonString()))}]");
        }

        switch (value)
        {
            case JsonObject map:
                WalkObject(schema, map, path, closed);
                break;
            case JsonArray list:
                WalkArray(schema, list, path);
                break;
            default:
                SchemaScalarChecks.Check(schema, value.AsValue(), path, Add);
                break;
        }

        WalkJunctors(schema, value, path);
    }

    private void WalkObject(JsonObject schema, JsonObject map, string path, bool closed)
    {
        var properties = schema["properties"] as JsonObject;
        var additional = schema["additionalProperties"];
        var keepsUnknown = Flag(schema, "x-kubernetes-preserve-unknown-fields") || additional is JsonValue open && open.GetValueKind() == JsonValueKind.True;
        var embedded = Flag(schema, "x-kubernetes-embedded-resource");
        foreach (var (key, child) in map)
        {
            var childPath = Child(path, key);
            if (properties is not null && properties.TryGetPropertyValue(key, out var declared) && declared is JsonObject declaredSchema)
            {
                Walk(declaredSchema, child, childPath);
            }
            else if (additional is JsonObject valueSchema)
            {
                Walk(valueSchema, child, childPath);
            }
            else if (embedded && key is "apiVersion" or "kind" or "metadata")
            {
                Walk(new JsonObject { ["type"] = key == "metadata" ? "object" : "string", ["x-kubernetes-preserve-unknown-fields"] = true }, child, childPath);
            }
            else if (closed && !keepsUnknown)
            {
                Add(childPath, properties is null ? "unknown field: this object declares no fields" : $"unknown field (declared: {string.Join(", ", properties.Select(p => p.Key))})");
            }
        }

        foreach (var name in Strings(schema["required"]).Where(name => !map.ContainsKey(name)))
        {
            Add(Child(path, name), "required field is missing");
        }

        CheckCount(schema, map.Count, path, "minProperties", "maxProperties", "properties");
    }

    private void WalkArray(JsonObject schema, JsonArray list, string path)
    {
        if (schema["items"] is JsonObject itemSchema)
        {
            for (var i = 0; i < list.Count; i++)
            {
                Walk(itemSchema, list[i], $"{path}[{i}]");
            }
        }

        CheckCount(schema, list.Count, path, "minItems", "maxItems", "items");
        switch ((string?)schema["x-kubernetes-list-type"])
        {
            case "set":
                ReportDuplicates(list.Select((item, i) => (i, item?.ToJsonString() ?? "null")), path, "a set holds each value once");
                break;
            case "map":
                var keys = Strings(schema["x-kubernetes-list-map-keys"]).ToList();
                var itemProperties = (schema["items"] as JsonObject)?["properties"] as JsonObject;
                for (var i = 0; i < list.Count; i++)
                {
                    foreach (var key in keys.Where(k => list[i] is JsonObject item && !item.ContainsKey(k) && itemProperties?[k]?["default"] is null))
                    {
                        Add(Child($"{path}[{i}]", key), "required field is missing (it is a key of this list-map)");
                    }
                }

                ReportDuplicates(list.Select((item, i) => (i, string.Join("|", keys.Select(k => item?[k]?.ToJsonString())))), path, $"duplicate list-map key ({string.Join(", ", keys)})");
                break;
        }
    }

    private void WalkJunctors(JsonObject schema, JsonNode value, string path)
    {
        foreach (var branch in Schemas(schema["allOf"]))
        {
            Walk(branch, value, path, closed: false);
        }

        var anyOf = Schemas(schema["anyOf"]).Select(branch => Trial(branch, value, path)).ToList();
        if (anyOf.Count > 0 && !anyOf.Any(failures => failures.Count == 0))
        {
            Add(path, $"{JsonTypes.Describe(value)} matches none of the {anyOf.Count} anyOf schemas: {string.Join("; or ", anyOf.Select(f => f[0]))}");
        }

        var oneOf = Schemas(schema["oneOf"]).ToList();
        var matching = oneOf.Count(branch => Trial(branch, value, path).Count == 0);
        if (oneOf.Count > 0 && matching != 1)
        {
            Add(path, $"{JsonTypes.Describe(value)} matches {matching} of the oneOf schemas, not exactly one");
        }

        if (schema["not"] is JsonObject forbidden && Trial(forbidden, value, path).Count == 0)
        {
            Add(path, $"{JsonTypes.Describe(value)} matches the schema under 'not'");
        }
    }

    private static List<SchemaViolation> Trial(JsonObject branch, JsonNode value, string path)
    {
        var trial = new OpenApiSchemaWalker();
        trial.Walk(branch, value, path, closed: false);
        return trial.violations;
    }

    private void CheckCount(JsonObject schema, int count, string path, string min, string max, string noun)
    {
        if (schema[min] is JsonValue low && count < low.GetValue<long>())
        {
            Add(path, $"{count} {noun}, fewer than {min} {low}");
        }

        if (schema[max] is JsonValue high && count > high.GetValue<long>())
        {
            Add(path, $"{count} {noun}, more than {max} {high}");
        }
    }

    private void ReportDuplicates(IEnumerable<(int Index, string Key)> items, string path, string message)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (index, key) in items.Where(item => !seen.Add(item.Key)))
        {
            Add($"{path}[{index}]", $"{message}: {key}");
        }
    }

    private void Add(string path, string message) => violations.Add(new SchemaViolation(path, message));

    private static bool Flag(JsonObject schema, string name) => schema[name] is JsonValue flag && flag.GetValueKind() == JsonValueKind.True;

    private static IEnumerable<string> Strings(JsonNode? node) => node is JsonArray list ? list.Select(item => (string)item!) : [];

    private static IEnumerable<JsonObject> Schemas(JsonNode? node) => node is JsonArray list ? list.OfType<JsonObject>() : [];

    private static string Display(string path) => path.Length == 0 ? "<root>" : path;

    /// <summary>The path of field <paramref name="key"/> under <paramref name="path"/>; keys that are not plain names are bracketed.</summary>
    public static string Child(string path, string key)
    {
        var plain = key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
        return plain ? (path.Length == 0 ? key : path + "." + key) : $"{path}[{JsonSerializer.Serialize(key)}]";
    }
}
