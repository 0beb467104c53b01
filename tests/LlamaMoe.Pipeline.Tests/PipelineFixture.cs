using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Pipeline.Tests.TestPlugins;
using LlamaMoe.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaMoe.Pipeline.Tests;

/// <summary>A pipeline file in a temp folder, loaded with the test plugins, run in process.</summary>
public sealed class PipelineFixture : IDisposable
{
    private readonly TempDirectory directory = new("llamamoe-pipeline");

    public PipelineFixture(string yaml)
    {
        Write(yaml);
    }

    public string Root => directory.Path;

    public string PipelinePath => directory.Combine("pipeline.yaml");

    public void Write(string yaml) => System.IO.File.WriteAllText(PipelinePath, yaml);

    public string File(string relative) => directory.Combine(relative);

    public LoadedPipeline Load() => PipelineLoader.Load(PipelinePath, extraAssemblies: [typeof(WriteStep).Assembly]).EnsureValid();

    public async Task<Dictionary<string, StageStatus>> RunAsync(
        IReadOnlySet<string>? force = null, string? until = null, CancellationToken cancellationToken = default, IPipelineRunObserver? observer = null, Func<string, string?>? environment = null)
    {
        var pipeline = Load();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, observer ?? new NullRunObserver()).BuildServiceProvider();
        var outcomes = await new PipelineRunner(pipeline, services).RunAsync(force, until, environment, cancellationToken);
        return outcomes.ToDictionary(o => o.StageId, o => o.Status);
    }

    public IReadOnlyList<StagePlan> Plan() => PipelinePlanner.Plan(Load(), "cpu");

    public string ReadArtifact(string stage, string file) => System.IO.File.ReadAllText(Path.Combine(Root, "artifacts", "t", stage, file));

    public void Dispose() => directory.Dispose();
}
