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

    /// <inheritdoc />
    public string Usage => $"llama-moe plan <pipeline.yaml> [--force STAGE]... [--until STAGE] [--json] {PipelineCommandSupport.CommonUsage}";

    /// <inheritdoc />
    public int Run(CliArguments arguments, CancellationToken cancellationToken)
    {
        var path = arguments.Required(0, "pipeline file");
        var settings = PipelineCommandSupport.Settings(arguments);
        var force = arguments.Options("force").ToHashSet(StringComparer.Ordinal);
        var until = arguments.Option("until");
        var json = arguments.Flag("json");
        arguments.ThrowOnUnused();
        var pipeline = PipelineCommandSupport.Load(path, settings);
        if (pipeline is null)
        {
            return ExitCodes.Failure;
        }

        PipelineCommandSupport.EnsureWritableStore(pipeline.Definition.StoreDirectory, settings.StoreOverride is null ? "store" : "--store");
        try
        {
            var device = new DeviceSelection(pipeline.Definition.Device, CudaProbe.IsAvailable).Kind;
            var plan = PipelinePlanner.Plan(pipeline, device, force, until);
            if (json)
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
