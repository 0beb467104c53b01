using LlamaMoe.Cli.Commands;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class PipelineCommandTests
{
    [Test]
    public void TheCommittedSchemaIsCurrent()
    {
        var generated = SchemaCommand.BuiltInSchema(out var diagnostics);
        Assert.That(diagnostics, Is.Empty);
        var committed = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "schema", "pipeline.schema.json"));
        Assert.That(committed, Is.EqualTo(generated), "schema/pipeline.schema.json is stale: run 'llama-moe schema --out schema/pipeline.schema.json'");
    }

    [Test]
    public void EveryPipelineInTheRepositoryReferencesTheSchema()
    {
        var folders = new[] { "pipelines", "samples" }.Select(f => Path.Combine(RepositoryPaths.Root, f)).Where(Directory.Exists);
        var files = folders.SelectMany(f => Directory.EnumerateFiles(f, "*.yaml", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
        Assert.That(files, Is.Not.Empty);
        foreach (var file in files)
        {
            var first = File.ReadLines(file).First();
            Assert.That(first, Does.StartWith("# yaml-language-server: $schema=").And.EndWith("schema/pipeline.schema.json"), file);
            var relative = first["# yaml-language-server: $schema=".Length..];
            Assert.That(File.Exists(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, relative))), Is.True, $"{file}: schema path does not resolve");
        }
    }

    [Test]
    public void ValidatePrintsEveryDiagnosticInCanonicalFormOnStderr()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("p.yaml");
        File.WriteAllText(path, "name: x\nstages:\n  a: { uses: nope/one }\n  b: { uses: nope/two, needs: [zz] }\n");
        var result = CliProcess.Run("validate", path);
        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.Failure));
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Does.Contain($"{path}(3,14): error LMOE0020: unknown plugin 'nope/one'. Run 'llama-moe plugins' to list them, or add the plugin's assembly under 'plugins:'."));
        Assert.That(lines.Count(l => l.Contains(": error LMOE0", StringComparison.Ordinal)), Is.EqualTo(3));
        Assert.That(result.Stderr, Does.Contain($"{path}(4,32): error LMOE0030"));
    }

    [Test]
    public void RunWithJsonReportsEachStage()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("p.yaml");
        File.WriteAllText(path, $"name: j\nplugins: [ '{typeof(PipelineCommandTests).Assembly.Location}' ]\nstages:\n  a: {{ uses: test-cli/write, with: {{ text: hi }} }}\n");
        var first = CliProcess.Run("run", path, "--json");
        Assert.That(first.ExitCode, Is.EqualTo(0), first.Stderr);
        Assert.That(first.Stdout, Does.Contain("\"status\": \"Ran\""));
        var second = CliProcess.Run("run", path, "--json");
        Assert.That(second.Stdout, Does.Contain("\"status\": \"UpToDate\""));
        var gc = CliProcess.Run("gc", path);
        Assert.That(gc.Stdout, Does.Contain("removed 0 unreferenced artifact(s), kept 1"));
        var clean = CliProcess.Run("clean", path);
        Assert.That(clean.ExitCode, Is.EqualTo(0), clean.Stderr);
        Assert.That(Directory.Exists(temp.Combine(".llamamoe")), Is.False);
    }
}
