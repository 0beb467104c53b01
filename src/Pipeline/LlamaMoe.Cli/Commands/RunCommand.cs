using System.Text.Json;
using LlamaMoe.Cli.Rendering;
using LlamaMoe.Modeling;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using TorchSharp;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe run</c>: runs the stale stages of a pipeline.</summary>
public sealed class RunCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "run";

    /// <inheritdoc />
    public string Summary => "Run a pipeline: only stages whose inputs, options or plugin changed.";

    /// <inheritdoc />
    public string Usage => $"llama-moe run <pipeline.yaml> [--force STAGE]... [--force-all] [--until STAGE] [--json] [--plain] [--threads N|auto] {PipelineCommandSupport.CommonUsage}";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var path = arguments.Required(0, "pipeline file");
        var settings = PipelineCommandSupport.Settings(arguments);
        var force = arguments.Options("force").ToHashSet(StringComparer.Ordinal);
        var forceAll = arguments.Flag("force-all");
        var until = arguments.Option("until");
        var threadsOverride = arguments.Option("threads");
        var json = arguments.Flag("json");
        var plain = arguments.Flag("plain") || json || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive;
        arguments.ThrowOnUnused();
        var pipeline = PipelineCommandSupport.Load(path, settings);
        if (pipeline is null)
        {
            return ExitCodes.Failure;
        }

        PipelineCommandSupport.EnsureWritableStore(pipeline.Definition.StoreDirectory, settings.StoreOverride is null ? "store" : "--store");
        if (Environment.GetEnvironmentVariable(LibTorchLocation.VariableName) is { Length: > 0 })
        {
            // Load the chosen libtorch before any stage, so a wrong setting fails here with its code and exit code 3.
            TorchRuntime.EnsureLoaded();
        }

        if (ThreadCount(threadsOverride, pipeline.Definition.Threads) is { } threads)
        {
            TorchRuntime.EnsureLoaded();
            torch.set_num_threads(threads);
        }

        if (forceAll)
        {
            force.UnionWith(pipeline.Stages.Select(s => s.Id));
        }

        var log = json ? Console.Error : Console.Out;
        PipelineCommandSupport.PrintLoadedAssemblies(pipeline, log);
        try
        {
            IReadOnlyList<StageOutcome> outcomes;
            if (plain)
            {
                outcomes = Execute(pipeline, new PlainRunObserver(log), force, until, cancellationToken);
            }
            else
            {
                outcomes = AnsiConsole.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                    .Start(context => Execute(pipeline, new SpectreRunObserver(context), force, until, cancellationToken));
            }

            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    outcomes.Select(o => new { stage = o.StageId, status = o.Status.ToString(), key = o.Key, output = o.OutputDigest, changed = o.OutputChanged, reasons = o.Reasons, seconds = o.Elapsed.TotalSeconds, device = o.Device }),
                    new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                var ran = outcomes.Count(o => o.Status == StageStatus.Ran);
                log.WriteLine($"{pipeline.Definition.Name}: {ran} stage(s) ran, {outcomes.Count(o => o.Status == StageStatus.UpToDate)} up to date; artifacts in {pipeline.Definition.ArtifactsViewDirectory}");
            }

            return ExitCodes.Success;
        }
        catch (PipelineDiagnosticsException ex)
        {
            PipelineCommandSupport.PrintDiagnostics(ex.Diagnostics);
            return ExitCodes.Failure;
        }
        catch (LlamaMoeException ex) when (ex.Code == DiagnosticCodes.StoreLocked)
        {
            Console.Error.WriteLine(ex.ToCanonicalString());
            return ExitCodes.StoreLocked;
        }
    }

    private static IReadOnlyList<StageOutcome> Execute(LoadedPipeline pipeline, IPipelineRunObserver observer, IReadOnlySet<string> force, string? until, CancellationToken cancellationToken)
    {
        using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, observer, CudaProbe.IsAvailable).BuildServiceProvider();
        return new PipelineRunner(pipeline, services).RunAsync(force, until, cancellationToken: cancellationToken).GetAwaiter().GetResult();
    }

    /// <summary>The thread count to set: <c>--threads</c> when given, else the pipeline's <c>threads:</c>; null = the runtime default.</summary>
    private static int? ThreadCount(string? commandLine, int? pipeline)
    {
        if (commandLine is null)
        {
            return pipeline;
        }

        return PipelineDefinition.TryParseThreads(commandLine, out var threads)
            ? threads
            : throw new CliUsageException($"--threads expects auto or a whole number from 1 to {PipelineDefinition.MaxThreads}, got '{commandLine}'");
    }
}
