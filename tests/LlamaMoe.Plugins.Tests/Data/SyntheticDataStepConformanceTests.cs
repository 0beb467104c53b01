using System.Reflection;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Plugins.Data;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Data;

[TestFixture]
public sealed class SyntheticDataStepConformanceTests : StepConformanceTests
{
    protected override string PluginName => "data/synthetic";

    protected override Assembly PluginAssembly => typeof(SyntheticDataStep).Assembly;

    protected override string ValidOptions => "{ people: 4, train-examples: 20, eval-examples: 5 }";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ people: 1 }", "LMOE0053"),
        new("{ train-examples: many }", "LMOE0052"),
        new("{ persons: 4 }", "LMOE0050"),
    ];

    [Test]
    public async Task OutputsNameEveryFileAndTheSeedChangesTheCorpus()
    {
        using var sandbox = new ConformanceSandbox(PluginName, PluginAssembly);
        var first = await sandbox.RunAsync("{ people: 4, train-examples: 20, eval-examples: 5 }", seed: 1, CancellationToken.None);
        var second = await sandbox.RunAsync("{ people: 4, train-examples: 20, eval-examples: 5, seed: 2 }", seed: 1, CancellationToken.None);
        foreach (var name in new[] { "corpus", "general", "mathcode", "eval-text", "eval-conversation", "eval-math", "eval-code", "text-conversation", "text-math", "text-code" })
        {
            Assert.That(first.Manifest.Outputs, Contains.Key(name));
            Assert.That(File.Exists(Path.Combine(first.OutputDirectory, first.Manifest.Outputs[name])), Is.True, name);
        }

        Assert.That(second.Manifest.Digest, Is.Not.EqualTo(first.Manifest.Digest));
    }
}
