using System.CommandLine;
using System.Text.Json;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;

namespace LlamaMoe.Cli.Commands;

/// <summary><c>llama-moe plan</c>: which stages a run would execute and why.</summary>
public sealed class PlanCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "plan";

    /// <inheritdoc />
    public string Summary => "Show which stages a run would execute, and why (changed option, input, plugin; missing artifact).";

    private readonly Argument<string> pipelineFile = CliOptions.Argument("pipeline.yaml", "The pipeline file.");
    private readonly PipelineOptions common = new();
    private readonly Option<string[]> force = RunCommand.ForceOption();
    private readonly Option<string> until = RunCommand.UntilOption();
    private readonly Option<bool> json = CliOptions.Flag("--json", "Print the plan as JSON.");

    /// <inheritdoc />
    public IEnumerable<Symbol> Symbols => [pipelineFile, force, until, json, .. common.Symbols];

    /// <inheritdoc />
    public int Run(ParseResult parse, CancellationToken cancellationToken)
    {
        var path = parse.GetRequiredValue(pipelineFile);
        var settings = common.Settings(parse);
        var forced = (parse.GetValue(force) ?? []).ToHashSet(StringComparer.Ordinal);
        var untilStage = parse.GetValue(until);
        var asJson = parse.GetValue(json);
        var pipeline = PipelineCommandSupport.Load(path, settings);
        if (pipeline is null)
        {
            return ExitCodes.Failure;
        }

        PipelineCommandSupport.EnsureWritableStore(pipeline.Definition.StoreDirectory, settings.StoreOverride is null ? "store" : "--store");
        try
        {
            var device = new DeviceSelection(pipeline.Definition.Device, CudaProbe.IsAvailable).Kind;
            var plan = PipelinePlanner.Plan(pipeline, device, forced, untilStage);
            if (asJson)
            {
                Console.WriteLine(JsonSerializer.Serialize(plan.Select(p => new { stage = p.StageId, action = p.Action.ToString(), reasons = p.Reasons }), new JsonSerializerOptions { WriteIndented = true }));
                return ExitCodes.Success;
            }

            foreach (var stage in plan)
            {
                var action = stage.Action switch
                {
                    PlanAction.Run => "run",
                    PlanAction.MayRun => "may run",
                    PlanAction.UpToDate => "up to date",
                    _ => "not requested",
                };
                Console.WriteLine(TerminalText.EscapeText(stage.Reasons.Count == 0 ? $"{stage.StageId}: {action}" : $"{stage.StageId}: {action}: {string.Join("; ", stage.Reasons)}"));
            }

            return ExitCodes.Success;
        }
        catch (PipelineDiagnosticsException ex)
        {
            PipelineCommandSupport.PrintDiagnostics(ex.Diagnostics);
            return ExitCodes.Failure;
        }
    }
}
