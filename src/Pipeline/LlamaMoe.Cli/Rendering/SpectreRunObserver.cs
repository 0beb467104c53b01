using System.Collections.Concurrent;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Execution;
using Spectre.Console;

namespace LlamaMoe.Cli.Rendering;

/// <summary>A live progress bar per stage on a terminal.</summary>
public sealed class SpectreRunObserver(ProgressContext context) : IPipelineRunObserver
{
    private readonly ConcurrentDictionary<string, ProgressTask> tasks = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons)
    {
        var task = context.AddTask(Safe($"{stageId} ({plugin})"), maxValue: 1);
        task.IsIndeterminate = true;
        tasks[stageId] = task;
        AnsiConsole.MarkupLine($"[grey]{Safe($"{stageId}: {string.Join("; ", reasons)}")}[/]");
    }

    /// <inheritdoc />
    public void StageProgress(string stageId, StepProgressUpdate update)
    {
        if (!tasks.TryGetValue(stageId, out var task))
        {
            return;
        }

        if (update.Total > 0)
        {
            task.IsIndeterminate = false;
            task.MaxValue = update.Total;
            task.Value = Math.Min(update.Step, update.Total);
        }

        task.Description = Safe($"{stageId}: {PlainRunObserver.Describe(update)}");
    }

    /// <inheritdoc />
    public void StageLog(string stageId, bool warning, string message) =>
        AnsiConsole.MarkupLine(warning ? $"[yellow]{Safe($"{stageId}: {message}")}[/]" : Safe($"{stageId}: {message}"));

    /// <inheritdoc />
    public void StageFinished(StageOutcome outcome)
    {
        if (tasks.TryGetValue(outcome.StageId, out var task))
        {
            task.IsIndeterminate = false;
            task.Value = task.MaxValue;
            task.Description = Safe($"{outcome.StageId}: done");
            task.StopTask();
        }
        else if (outcome.Status == StageStatus.UpToDate)
        {
            var done = context.AddTask(Safe($"{outcome.StageId}: up to date"), maxValue: 1);
            done.Value = 1;
            done.StopTask();
        }
    }

    /// <summary>Escapes control characters (names and messages come from files and steps) and Spectre markup.</summary>
    private static string Safe(string text) => Markup.Escape(TerminalText.EscapeText(text));
}
