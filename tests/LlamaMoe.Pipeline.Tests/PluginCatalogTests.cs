using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Tests.TestPlugins;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class PluginCatalogTests
{
    [Test]
    public void TwoPluginsWithOneNameIsAnErrorNamingBothAssemblies()
    {
        using var temp = new TempDirectory();
        var sampleBin = Path.Combine(RepositoryPaths.Root, "samples", "MagnitudeSplitter", "bin", RepositoryPaths.Configuration, "net10.0");
        var path = temp.Combine("p.yaml");
        File.WriteAllText(path, $"name: t\nplugins:\n  - {sampleBin}\nstages:\n  a: {{ uses: test/write, with: {{ text: x }} }}\n");
        var result = PipelineLoader.Load(path, extraAssemblies: [typeof(WriteStep).Assembly]);
        var duplicate = result.Diagnostics.Single(d => d.Code == "LMOE0021");
        Assert.That(duplicate.Message, Does.Contain("'split-mlp/magnitude'").And.Contain("LlamaMoe.Pipeline.Tests.dll").And.Contain("MagnitudeSplitter.dll"));
        Assert.That((duplicate.Line, duplicate.Column), Is.EqualTo((3, 5)), "located at the plugins: entry that brought the second one");
    }

    [Test]
    public void StepsExposeTheirExportMetadata()
    {
        using var fixture = new PipelineFixture("name: t\nstages:\n  b: { uses: test/write, with: { text: x } }\n");
        var write = fixture.Load().Catalog.Steps["test/length"];
        Assert.That(write.Description, Is.EqualTo("Writes the length of its input's text."));
        Assert.That(write.Consumes, Is.EqualTo(new[] { ArtifactKinds.Files }));
        Assert.That(write.Produces, Is.EqualTo(ArtifactKinds.Files));
        Assert.That(write.OptionsType, Is.EqualTo(typeof(LengthOptions)));
        Assert.That(write.Version, Is.EqualTo("1"));
    }
}
