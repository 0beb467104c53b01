using System.Globalization;
using System.Text.RegularExpressions;

namespace LlamaMoe.Build.Tasks;

/// <summary>
/// The last line of a successful <c>llama-moe run</c>:
/// <c>NAME: 2 stage(s) ran, 3 up to date; artifacts in DIR</c>.
/// </summary>
/// <param name="PipelineName">The pipeline's <c>name</c>.</param>
/// <param name="StagesRun">Stages that executed in this run.</param>
/// <param name="StagesUpToDate">Stages whose key already had a result in the store.</param>
/// <param name="ArtifactsDirectory">The folder the pipeline's readable outputs were published to.</param>
public sealed record RunSummary(string PipelineName, int StagesRun, int StagesUpToDate, string ArtifactsDirectory)
{
    private static readonly Regex Pattern = new(
        @"^(?<name>\S.*?): (?<ran>\d+) stage\(s\) ran, (?<up>\d+) up to date; artifacts in (?<dir>.+)$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture | RegexOptions.NonBacktracking, // linear in the line length: no timeout on hostile output
        TimeSpan.FromSeconds(1));

    /// <summary>True when the run executed no stage.</summary>
    public bool UpToDate => StagesRun == 0;

    /// <summary>Parses the summary line; returns null for any other line.</summary>
    public static RunSummary? TryParse(string? line)
    {
        if (string.IsNullOrEmpty(line))
        {
            return null;
        }

        Match match;
        try
        {
            match = Pattern.Match(line.TrimEnd());
        }
        catch (RegexMatchTimeoutException)
        {
            return null;
        }

        return match.Success
            && int.TryParse(match.Groups["ran"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ran)
            && int.TryParse(match.Groups["up"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var upToDate)
            ? new RunSummary(match.Groups["name"].Value, ran, upToDate, match.Groups["dir"].Value.Trim())
            : null;
    }
}
