using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace LlamaMoe.Plugins.Tests.Kubernetes;

/// <summary>What validating one manifest found: the violations, and the CEL rules that were met but not evaluated.</summary>
internal sealed record CrdValidationResult(IReadOnlyList<SchemaViolation> Violations, IReadOnlyList<string> UncheckedRules)
{
    public bool IsValid => Violations.Count == 0;

    public override string ToString() => IsValid ? "valid" : string.Join("\n", Violations);
}

/// <summary>
/// A CustomResourceDefinition (<c>apiextensions.k8s.io/v1</c>) read from its YAML, which validates a manifest as the API
/// server would before admission: <c>apiVersion</c> names the CRD's group and a served version, <c>kind</c> is the CRD's
/// kind, <c>metadata</c> is a well-formed ObjectMeta (checked here, as the server does, since CRD schemas say only
/// <c>type: object</c>), and the rest follows that version's <c>openAPIV3Schema</c> (<see cref="OpenApiSchemaWalker"/>).
/// </summary>
internal sealed class CustomResourceDefinition
{
    private const string DnsLabel = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    private const string DnsSubdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    private static readonly ConcurrentDictionary<string, CustomResourceDefinition> Loaded = new(StringComparer.Ordinal);

    /// <summary>The subset of ObjectMeta a client may write, with the API server's checks on names and label values.</summary>
    private static readonly JsonObject ObjectMeta = JsonNode.Parse($$"""
        {
          "type": "object",
          "anyOf": [ { "required": [ "name" ] }, { "required": [ "generateName" ] } ],
          "properties": {
            "name": { "type": "string", "maxLength": 253, "pattern": "{{DnsSubdomain.Replace("\\", "\\\\", StringComparison.Ordinal)}}" },
            "generateName": { "type": "string" },
            "namespace": { "type": "string", "maxLength": 63, "pattern": "{{DnsLabel}}" },
            "labels": { "type": "object", "additionalProperties": { "type": "string", "maxLength": 63, "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$" } },
            "annotations": { "type": "object", "additionalProperties": { "type": "string" } },
            "finalizers": { "type": "array", "items": { "type": "string" } },
            "ownerReferences": { "type": "array", "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } }
          }
        }
        """)!.AsObject();

    private readonly Dictionary<string, JsonObject> schemas;

    private CustomResourceDefinition(string group, string kind, Dictionary<string, JsonObject> schemas)
    {
        Group = group;
        Kind = kind;
        this.schemas = schemas;
    }

    /// <summary>The API group, e.g. <c>trainer.kubeflow.org</c>.</summary>
    public string Group { get; }

    /// <summary>The resource kind, e.g. <c>TrainJob</c>.</summary>
    public string Kind { get; }

    /// <summary>The served versions that carry a schema.</summary>
    public IReadOnlyCollection<string> Versions => schemas.Keys;

    /// <summary>The Kubeflow Trainer v2.2.1 TrainJob CRD kept in TestData/k8s-crds.</summary>
    public static CustomResourceDefinition TrainJob => Load(Path.Combine(CrdFolder(), "kubeflow-trainer-v2.2.1", "trainer.kubeflow.org_trainjobs.yaml"));

    /// <summary>The training-operator v1.9.4 PyTorchJob CRD kept in TestData/k8s-crds.</summary>
    public static CustomResourceDefinition PyTorchJob => Load(Path.Combine(CrdFolder(), "training-operator-v1.9.4", "kubeflow.org_pytorchjobs.yaml"));

    /// <summary>The CRD in the YAML file at <paramref name="path"/> (read once per test run).</summary>
    public static CustomResourceDefinition Load(string path) => Loaded.GetOrAdd(Path.GetFullPath(path), Parse);

    /// <summary>The <c>openAPIV3Schema</c> of <paramref name="version"/>.</summary>
    public JsonObject Schema(string version) => schemas[version];

    /// <summary>Validates <paramref name="manifest"/> (one resource, as read from YAML).</summary>
    public CrdValidationResult Validate(JsonNode? manifest)
    {
        var walker = new OpenApiSchemaWalker();
        if (manifest is not JsonObject resource)
        {
            walker.Walk(new JsonObject { ["type"] = "object" }, manifest, "");
            return new CrdValidationResult(walker.Violations, walker.UncheckedRules);
        }

        var violations = new List<SchemaViolation>();
        var apiVersion = Text(resource["apiVersion"]);
        var slash = apiVersion?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        var version = slash > 0 && apiVersion![..slash] == Group ? apiVersion[(slash + 1)..] : null;
        if (version is null || !schemas.ContainsKey(version))
        {
            var expected = string.Join(" or ", schemas.Keys.Select(v => $"{Group}/{v}"));
            violations.Add(new SchemaViolation("apiVersion", $"{JsonTypes.Describe(resource["apiVersion"])} is not a served version of this CRD ({expected})"));
        }

        if (Text(resource["kind"]) != Kind)
        {
            violations.Add(new SchemaViolation("kind", $"{JsonTypes.Describe(resource["kind"])} is not this CRD's kind \"{Kind}\""));
        }

        if (version is not null && schemas.TryGetValue(version, out var schema))
        {
            var root = schema.DeepClone().AsObject();
            root["properties"]!["metadata"] = ObjectMeta.DeepClone();
            root["required"] = new JsonArray(["apiVersion", "kind", "metadata", .. (root["required"] as JsonArray ?? []).Select(r => r?.DeepClone())]);
            walker.Walk(root, resource, "");
        }

        return new CrdValidationResult([.. violations, .. walker.Violations], walker.UncheckedRules);
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static CustomResourceDefinition Parse(string path)
    {
        var crd = YamlJsonReader.ReadFile(path) as JsonObject ?? throw new InvalidDataException($"{path}: not a YAML mapping");
        if ((string?)crd["apiVersion"] != "apiextensions.k8s.io/v1" || (string?)crd["kind"] != "CustomResourceDefinition")
        {
            throw new InvalidDataException($"{path}: not an apiextensions.k8s.io/v1 CustomResourceDefinition");
        }

        var spec = crd["spec"]!;
        var schemas = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var version in spec["versions"]!.AsArray().OfType<JsonObject>().Where(v => (bool?)v["served"] == true))
        {
            schemas[(string)version["name"]!] = version["schema"]?["openAPIV3Schema"] as JsonObject
                ?? throw new InvalidDataException($"{path}: version {version["name"]} has no openAPIV3Schema");
        }

        return new CustomResourceDefinition((string)spec["group"]!, (string)spec["names"]!["kind"]!, schemas);
    }

    private static string CrdFolder([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "TestData", "k8s-crds"));
}
