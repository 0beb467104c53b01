using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Yaml;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class PipelineParserTests
{
    private const string IssueExample = """
        # yaml-language-server: $schema=../schema/pipeline.schema.json
        name: stories-moe-4x2
        vars:
          data: ${env:LLAMAMOE_DATA}
        plugins:                      # optional: extra plugin assemblies or folders
          - ../samples/MagnitudeSplitter/bin/Release/net10.0
        stages:
          dense:
            uses: import
            with: { source: "${data}/stories260K/stories260K.bin", tokenizer: "${data}/stories260K/tok512.model" }
          split:
            uses: split-mlp/random
            needs: [dense]
            with: { experts: 4, seed: 1 }
          eval:
            uses: evaluate
            needs: [split]
            with:
              tasks:
                - { task: perplexity, data: "${data}/tinystories/tinystories_valid_0001-0700.txt", format: stories }
        """;

    [Test]
    public void TheIssuesExampleShapeParsesWithoutDiagnostics()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("pipelines", "stories.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, IssueExample);
        var diagnostics = new List<Diagnostic>();
        var definition = PipelineParser.Parse(path, new PipelineLoadSettings { Environment = n => n == "LLAMAMOE_DATA" ? "/data" : null }, diagnostics);
        Assert.That(diagnostics, Is.Empty);
        Assert.That(definition!.Name, Is.EqualTo("stories-moe-4x2"));
        Assert.That(definition.Vars["data"], Is.EqualTo("/data"));
        Assert.That(definition.Plugins.Single().Path, Is.EqualTo(temp.Combine("samples", "MagnitudeSplitter", "bin", "Release", "net10.0")));
        Assert.That(definition.StoreDirectory, Is.EqualTo(temp.Combine("pipelines", ".llamamoe")));
        Assert.That(StageGraph.TopologicalOrder(definition.Stages).Select(s => s.Id), Is.EqualTo(new[] { "dense", "split", "eval" }));
        var tasks = (YSequence)definition.Stages.Single(s => s.Id == "eval").With!.Get("tasks")!;
        Assert.That(((YScalar)((YMapping)tasks.Items[0]).Get("format")!).Value, Is.EqualTo("stories"));
    }

    [TestCase("threads: 1\n", 1)]
    [TestCase("threads: 16\n", 16)]
    [TestCase("threads: auto\n", null)]
    [TestCase("", null)]
    public void TheThreadsSettingIsANumberOrAuto(string line, int? expected)
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("threads.yaml");
        File.WriteAllText(path, "name: t\n" + line + "stages:\n  a: { uses: test/write }\n");
        var diagnostics = new List<Diagnostic>();
        var definition = PipelineParser.Parse(path, new PipelineLoadSettings(), diagnostics);
        Assert.That(diagnostics, Is.Empty);
        Assert.That(definition!.Threads, Is.EqualTo(expected));
    }

    [Test]
    public void DeepNestingIsRefusedQuicklyInsteadOfOverflowingTheStack()
    {
        var text = "name: t\nstages: " + new string('[', 200_000) + new string(']', 200_000) + "\n";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<PipelineDiagnosticsException>(() => SafeYamlReader.Read(text, "deep.yaml"));
        Assert.That(ex!.Code, Is.EqualTo("LMOE0002"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void AnAliasBombIsRefusedBeforeExpansion()
    {
        var text = "name: t\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
        var ex = Assert.Throws<PipelineDiagnosticsException>(() => SafeYamlReader.Read(text, "bomb.yaml"));
        Assert.That(ex!.Code, Is.EqualTo("LMOE0003"));
        Assert.That((ex.Line, ex.Column), Is.EqualTo((2, 4)));
    }

    [Test]
    public void ALiteralDollarBraceIsWrittenDoubled()
    {
        var diagnostics = new List<Diagnostic>();
        var value = new Interpolator(new Dictionary<string, string> { ["x"] = "1" }, _ => null).Expand("$${x} is ${x}", new SourceLocation("f", 1, 1), null, diagnostics);
        Assert.That(value, Is.EqualTo("${x} is 1"));
        Assert.That(diagnostics, Is.Empty);
    }

    [TestCase("NumExperts", "num-experts")]
    [TestCase("TopK", "top-k")]
    [TestCase("HTTPPort", "http-port")]
    [TestCase("Lr2Scale", "lr2-scale")]
    public void OptionKeysAreKebabCase(string property, string key) => Assert.That(Options.KebabCase.From(property), Is.EqualTo(key));
}
