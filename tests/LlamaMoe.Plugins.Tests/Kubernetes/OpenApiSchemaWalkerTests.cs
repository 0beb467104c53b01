using System.Text.Json.Nodes;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Kubernetes;

/// <summary>The structural-schema walker on small schemas written like a CRD's, one keyword at a time.</summary>
[TestFixture]
public sealed class OpenApiSchemaWalkerTests
{
    private static readonly JsonObject Job = Schema("""
        type: object
        required: [name]
        properties:
          name: { type: string, maxLength: 8, pattern: "^[a-z]+$" }
          replicas: { type: integer, format: int32, minimum: 0 }
          policy: { type: string, enum: [Always, Never] }
          paused: { type: boolean, nullable: true }
          port: { x-kubernetes-int-or-string: true, anyOf: [ { type: integer }, { type: string } ] }
          limits: { type: object, additionalProperties: { type: string } }
          template: { type: object, x-kubernetes-preserve-unknown-fields: true, properties: { name: { type: string } } }
          env:
            type: array
            x-kubernetes-list-type: map
            x-kubernetes-list-map-keys: [name]
            items: { type: object, required: [name], properties: { name: { type: string }, value: { type: string } } }
          tags: { type: array, x-kubernetes-list-type: set, items: { type: string } }
          rule: { type: string, x-kubernetes-validations: [ { rule: "self == oldSelf", message: immutable } ] }
        """);

    [Test]
    public void AValueThatFollowsEveryKeywordHasNoViolations()
    {
        var value = Yaml("""
            { name: job, replicas: 2, policy: Never, paused: null, port: "http", limits: { cpu: "1" },
              template: { name: t, anything: { goes: [1] } }, env: [ { name: A, value: "1" }, { name: B } ], tags: [x, y] }
            """);
        Assert.That(OpenApiSchemaWalker.Validate(Job, value), Is.Empty);
    }

    [TestCase("{ name: job, replicas: \"2\" }", "replicas", "expected integer, found string \"2\"")]
    [TestCase("{ name: job, replicas: 2.5 }", "replicas", "expected integer, found number 2.5")]
    [TestCase("{ name: job, paused: \"yes\" }", "paused", "expected boolean")]
    [TestCase("{ name: job, limits: { cpu: 1 } }", "limits.cpu", "expected string, found integer 1")]
    [TestCase("{ name: job, env: { A: 1 } }", "env", "expected array, found an object")]
    public void AWrongTypeIsReportedAtItsPath(string yaml, string path, string message) =>
        AssertViolation(yaml, path, message);

    [TestCase("{ name: job, port: 8080 }")]
    [TestCase("{ name: job, port: \"8080\" }")]
    public void AnIntOrStringFieldTakesAnIntegerOrAString(string yaml) =>
        Assert.That(OpenApiSchemaWalker.Validate(Job, Yaml(yaml)), Is.Empty);

    [Test]
    public void AnIntOrStringFieldRefusesABoolean() =>
        AssertViolation("{ name: job, port: true }", "port", "expected an integer or a string, found boolean true");

    [Test]
    public void AnUndeclaredFieldOfAClosedObjectIsRefusedNotPruned()
    {
        AssertViolation("{ name: job, replica: 2 }", "replica", "unknown field");
        AssertViolation("{ name: job, env: [ { name: A, valu: x } ] }", "env[0].valu", "unknown field");
    }

    [Test]
    public void PreserveUnknownFieldsAndAdditionalPropertiesKeepAnObjectOpen() =>
        Assert.That(OpenApiSchemaWalker.Validate(Job, Yaml("{ name: job, template: { x: 1 }, limits: { memory: 1Gi, cpu: \"2\" } }")), Is.Empty);

    [Test]
    public void AMissingRequiredFieldIsReportedAtTheFieldsPath()
    {
        AssertViolation("{ replicas: 1 }", "name", "required field is missing");
        AssertViolation("{ name: job, env: [ { value: x } ] }", "env[0].name", "required field is missing");
    }

    [TestCase("{ name: Job }", "name", "does not match the pattern")]
    [TestCase("{ name: toolongname }", "name", "longer than maxLength 8")]
    [TestCase("{ name: job, replicas: -1 }", "replicas", "below the minimum 0")]
    [TestCase("{ name: job, replicas: 4294967296 }", "replicas", "does not fit format int32")]
    [TestCase("{ name: job, policy: Sometimes }", "policy", "is not one of the allowed values")]
    [TestCase("{ name: job, replicas: null }", "replicas", "null is not allowed")]
    public void AValueOutsideItsBoundsIsRefused(string yaml, string path, string message) =>
        AssertViolation(yaml, path, message);

    [Test]
    public void AListMapRefusesTwoItemsWithTheSameKeyAndASetRefusesARepeatedValue()
    {
        AssertViolation("{ name: job, env: [ { name: A }, { name: A } ] }", "env[1]", "duplicate list-map key");
        AssertViolation("{ name: job, tags: [x, x] }", "tags[1]", "a set holds each value once");
    }

    [Test]
    public void AnyOfBranchesConstrainTheValueWithoutClosingTheObject()
    {
        var schema = Schema("{ type: object, properties: { a: { type: string }, b: { type: string } }, anyOf: [ { required: [a] }, { required: [b] } ] }");
        Assert.That(OpenApiSchemaWalker.Validate(schema, Yaml("{ b: x }")), Is.Empty);
        var violations = OpenApiSchemaWalker.Validate(schema, Yaml("{}"));
        Assert.That(violations.Select(v => v.Message), Has.One.Contains("matches none of the 2 anyOf schemas"));
    }

    [Test]
    public void CelRulesAreListedAsUncheckedInsteadOfPassingSilently()
    {
        var walker = new OpenApiSchemaWalker();
        walker.Walk(Job, Yaml("{ name: job, rule: x }"), "");
        Assert.That(walker.Violations, Is.Empty);
        Assert.That(walker.UncheckedRules, Is.EqualTo(new[] { "rule: self == oldSelf" }));
    }

    [Test]
    public void QuotedYamlScalarsAreStringsAndPlainOnesAreTypedByTheCoreSchema()
    {
        var value = YamlJsonReader.Read("{ a: \"2\", b: 2, c: 'true', d: true, e: ~, f: 1.5, g: 0x10, h: !!str 3, i: 1Gi }")!;
        Assert.That(value.ToJsonString(), Is.EqualTo("""{"a":"2","b":2,"c":"true","d":true,"e":null,"f":1.5,"g":16,"h":"3","i":"1Gi"}"""));
    }

    private static void AssertViolation(string yaml, string path, string message)
    {
        var violations = OpenApiSchemaWalker.Validate(Job, Yaml(yaml));
        Assert.That(violations, Has.Some.Matches<SchemaViolation>(v => v.Path == path && v.Message.Contains(message, StringComparison.Ordinal)),
            $"expected '{path}: …{message}…'; found:\n{string.Join("\n", violations)}");
    }

    private static JsonNode? Yaml(string text) => YamlJsonReader.Read(text);

    private static JsonObject Schema(string text) => YamlJsonReader.Read(text)!.AsObject();
}
