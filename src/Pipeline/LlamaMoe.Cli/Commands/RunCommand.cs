using System.CommandLine;
using System.CommandLine.Completions;
using System.Text.Json;
using LlamaMoe.Cli.Rendering;
using LlamaMoe.Modeling;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe run</c>: runs the stale stages of a pipeline.</summary>
public sealed class RunCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "run";

    /// <inheritdoc />
    public string Summary => "Run a pipeline: only stages whose inputs, options or plugin changed.";

    private readonly Argument<string> pipelineFile = CliOptions.Argument("pipeline.yaml", "The pipeline file.");
    private readonly PipelineOptions common = new();
    private readonly Option<string[]> force = ForceOption();
    private readonly Option<bool> forceAll = CliOptions.Flag("--force-all", "Run every stage again.");
    private readonly Option<string> until = UntilOption();
    private readonly Option<bool> json = CliOptions.Flag("--json", "Print each stage's outcome as JSON on stdout (the log goes to stderr).");
    private readonly Option<bool> plainOutput = CliOptions.Flag("--plain", "Plain log lines instead of progress bars.");
    private readonly Option<string> threads = CliOptions.Text("--threads", $"CPU threads for libtorch: auto or 1 to {PipelineDefinition.MaxThreads} (default: the pipeline's threads:).", "N|auto");

    /// <summary>The repeatable <c>--force STAGE</c> option (also used by <c>plan</c>); completion offers the pipeline's stages.</summary>
    internal static Option<string[]> ForceOption()
    {
        var option = CliOptions.Repeated("--force", "Run STAGE again even when it is up to date (repeatable: --force a --force b).", "STAGE");
        option.CompletionSources.Add(StageNames);
        return option;
    }

    /// <summary>The <c>--until STAGE</c> option (also used by <c>plan</c>); completion offers the pipeline's stages.</summary>
    internal static Option<string> UntilOption()
    {
        var option = CliOptions.Text("--until", "Stop after STAGE (and what it needs).", "STAGE");
        option.CompletionSources.Add(StageNames);
        return option;
    }

    // The stage names of the pipeline file already on the command line, for completion (none when it cannot be read).
    private static IEnumerable<string> StageNames(CompletionContext context)
    {
        if (context.ParseResult.GetValue<string>("pipeline.yaml") is not { } path || !File.Exists(path))
        {
            return [];
        }

        var definition = PipelineParser.Parse(path, new PipelineLoadSettings { InputPathsMayBeMissing = true }, []);
        return definition?.Stages.Select(s => s.Id).Where(id => id.StartsWith(context.WordToComplete, StringComparison.Ordinal)) ?? [];
    }

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [pipelineFile, force, forceAll, until, json, plainOutput, threads, .. common.Symbols];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var path = parse.GetRequiredValue(pipelineFile);
        var settings = common.Settings(parse);
        var forced = (parse.GetValue(force) ?? []).ToHashSet(StringComparer.Ordinal);
        var untilStage = parse.GetValue(until);
        var asJson = parse.GetValue(json);
        var plain = parse.GetValue(plainOutput) || asJson || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive;
        var threadsText = parse.GetValue(threads);
        var threadCount = ThreadCount(threadsText);
        var pipeline = PipelineCommandSupport.Load(path, settings);
        if (pipeline is null)
        {
            return ExitCodes.Failure;
        }

        PipelineCommandSupport.EnsureWritableStore(pipeline.Definition.StoreDirectory, settings.StoreOverride is null ? "store" : "--store");
        if (Environment.GetEnvironmentVariable(LibTorchLocation.VariableName) is { Length: > 0 } setting)
        {
            // Check the chosen libtorch's folder before any stage (LMOE1002-1004, exit code 3), without loading it yet.
            LibTorchLocation.Resolve(setting);
        }

        // libtorch is loaded, and its thread count set, only when the first stale stage starts: deciding that
        // everything is up to date never loads the native runtime.
        var runtime = new NativeRuntimeOnFirstStage(threadsText is null ? pipeline.Definition.Threads : threadCount);
        if (parse.GetValue(forceAll))
        {
            forced.UnionWith(pipeline.Stages.Select(s => s.Id));
        }

        var log = asJson ? Console.Error : Console.Out;
        PipelineCommandSupport.PrintLoadedAssemblies(pipeline, log);
        try
        {
            IReadOnlyList<StageOutcome> outcomes;
            if (plain)
            {
                outcomes = Execute(pipeline, runtime.Wrap(new PlainRunObserver(log)), forced, untilStage, cancellationToken);
            }
            else
            {
                outcomes = AnsiConsole.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                    .Start(context => Execute(pipeline, runtime.Wrap(new SpectreRunObserver(context)), forced, untilStage, cancellationToken));
            }

            if (asJson)
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

    /// <summary>The thread count of <c>--threads</c>; null when not given (then the pipeline's <c>threads:</c> applies).</summary>
    private static int? ThreadCount(string? commandLine)
    {
        if (commandLine is null)
        {
            return null;
        }

        return PipelineDefinition.TryParseThreads(commandLine, out var threads)
            ? threads
            : throw new CliUsageException($"--threads expects auto or a whole number from 1 to {PipelineDefinition.MaxThreads}, got '{commandLine}'");
    }
}
