using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Execution;

namespace LlamaMoe.Cli.Rendering;

/// <summary>
/// Plain progress lines for redirected output (MSBuild, CI, logs): a start and a finish line per stage and at most
/// one progress line per stage every <see cref="Interval"/>, each with a text progress bar when the total is known.
/// </summary>
public sealed class PlainRunObserver(TextWriter writer) : IPipelineRunObserver
{
    /// <summary>The least time between two progress lines of one stage.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Stopwatch> lastLine = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons)
    {
        lastLine[stageId] = Stopwatch.StartNew();
        Write($"[{stageId}] start ({plugin}): {string.Join("; ", reasons)}");
    }

    /// <inheritdoc />
    public void StageProgress(string stageId, StepProgressUpdate update)
    {
        var watch = lastLine.GetOrAdd(stageId, _ => Stopwatch.StartNew());
        if (watch.Elapsed < Interval)
        {
            return;
        }

        watch.Restart();
        Write($"[{stageId}] {Describe(update)}");
    }

    /// <inheritdoc />
    public void StageLog(string stageId, bool warning, string message) => Write($"[{stageId}] {(warning ? "warning: " : string.Empty)}{message}");

    /// <inheritdoc />
    public void StageFinished(StageOutcome outcome)
    {
        switch (outcome.Status)
        {
            case StageStatus.Ran:
                Write($"[{outcome.StageId}] done in {outcome.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s: {Short(outcome.OutputDigest)}{(outcome.OutputChanged ? string.Empty : " (output unchanged)")}");
                break;
            case StageStatus.UpToDate:
                Write($"[{outcome.StageId}] up to date: {Short(outcome.OutputDigest)}");
                break;
            default:
                Write($"[{outcome.StageId}] not requested");
                break;
        }
    }

    /// <summary>Width of the text progress bar in characters.</summary>
    public const int BarWidth = 20;

    /// <summary>"[#####...............]  25% step/total message k=v" (the bar only when the total is known).</summary>
    public static string Describe(StepProgressUpdate update)
    {
        var count = update.Total > 0 ? $"{Bar(update.Step, update.Total)} {update.Step}/{update.Total}" : update.Step.ToString(CultureInfo.InvariantCulture);
        var metrics = update.Metrics is null ? string.Empty : " " + string.Join(" ", update.Metrics.Select(m => $"{m.Key}={m.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
        return $"{count} {update.Message}{metrics}".TrimEnd();
    }

    private static string Bar(long step, long total)
    {
        var fraction = Math.Clamp((double)step / total, 0, 1);
        var filled = (int)Math.Floor(fraction * BarWidth);
        var percent = ((int)Math.Floor(fraction * 100)).ToString(CultureInfo.InvariantCulture).PadLeft(3);
        return $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {percent}%";
    }

    private static string Short(string? digest) => digest is null ? "-" : digest.Length > 19 ? digest[..19] : digest;

    private void Write(string line)
    {
        lock (writer)
        {
            writer.WriteLine(TerminalText.EscapeText(line));
            writer.Flush();
        }
    }
}
