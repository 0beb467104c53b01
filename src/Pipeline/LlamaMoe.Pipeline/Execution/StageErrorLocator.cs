using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Options;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>
/// Places a step's coded error at the pipeline file's line when the step names the option it is about
/// (<c>key: "formats[1]"</c>, <c>key: "baseline"</c>) or <c>needs</c> but no file: the option's value when it is written,
/// the stage's <c>with:</c> (or the stage) when the option is left at its default, the first <c>needs</c> entry for <c>needs</c>.
/// Errors that already name a file, name no key, or name something that is not an option are returned unchanged.
/// </summary>
public static class StageErrorLocator
{
    /// <summary>The error located at its option key in the pipeline file, or <paramref name="error"/> itself.</summary>
    /// <param name="error">What the step threw.</param>
    /// <param name="stage">The stage that ran.</param>
    /// <param name="optionLocations">Where each bound option value is (dotted keys, list items as <c>key[i]</c>).</param>
    public static LlamaMoeException Locate(LlamaMoeException error, ResolvedStage stage, IReadOnlyDictionary<string, SourceLocation> optionLocations)
    {
        if (error.GetType() != typeof(LlamaMoeException) || error.FilePath is not null || string.IsNullOrEmpty(error.Key))
        {
            return error;
        }

        var location = Find(error.Key, stage, optionLocations);
        return location is null
            ? error
            : new LlamaMoeException(error.Code, error.Message, location.File, error.Key, error.Advice, location.Line, location.Column, error);
    }

    private static SourceLocation? Find(string key, ResolvedStage stage, IReadOnlyDictionary<string, SourceLocation> optionLocations)
    {
        if (optionLocations.TryGetValue(key, out var exact))
        {
            return exact;
        }

        if (key == "needs")
        {
            return stage.Definition.Needs.Count > 0 ? stage.Definition.Needs[0].Location : stage.Definition.Location;
        }

        // "formats[2]" or "tasks[0].data" of a list or object left at its default: the innermost written ancestor, else the stage's options.
        for (var cut = LastSeparator(key); cut > 0; cut = LastSeparator(key[..cut]))
        {
            if (optionLocations.TryGetValue(key[..cut], out var ancestor))
            {
                return ancestor;
            }
        }

        var root = key[..(FirstSeparator(key) is var first and > 0 ? first : key.Length)];
        return OptionProperty.Of(stage.Plugin.OptionsType).Any(p => p.Key == root)
            ? stage.Definition.With?.Location ?? stage.Definition.Location
            : null;
    }

    private static int LastSeparator(string key) => key.LastIndexOfAny(['.', '[']);

    private static int FirstSeparator(string key) => key.IndexOfAny(['.', '[']);
}
