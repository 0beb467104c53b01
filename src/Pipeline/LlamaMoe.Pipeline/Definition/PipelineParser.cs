using System.Globalization;
using System.Text.RegularExpressions;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Yaml;

namespace LlamaMoe.Pipeline.Definition;

/// <summary>
/// Turns a pipeline file into a <see cref="PipelineDefinition"/>, collecting every structural problem
/// (keys, shapes, names, variables, the needs graph) rather than stopping at the first.
/// </summary>
public static partial class PipelineParser
{
    /// <summary>The top-level keys.</summary>
    public static readonly IReadOnlyList<string> TopLevelKeys = ["name", "vars", "plugins", "store", "seed", "device", "threads", "stages"];

    /// <summary>The keys of a stage.</summary>
    public static readonly IReadOnlyList<string> StageKeys = ["uses", "needs", "with", "description"];

    /// <summary>Reads and parses a pipeline file. Diagnostics are added to <paramref name="diagnostics"/>; returns null when nothing usable remains.</summary>
    public static PipelineDefinition? Parse(string filePath, PipelineLoadSettings settings, List<Diagnostic> diagnostics)
    {
        var fullPath = Path.GetFullPath(filePath);
        string text;
        if (FileKind.DescribeSpecial(fullPath) is { } kind)
        {
            diagnostics.Add(new Diagnostic(FileKind.NotRegularCode, $"the pipeline file is {kind}, not a regular file; it is not opened because reading it could block or never end", fullPath, 0, 0,
                "Write the pipeline to a regular .yaml file and name that file."));
            return null;
        }

        try
        {
            if (File.Exists(fullPath) && new FileInfo(fullPath).Length > SafeYamlReader.MaxBytes)
            {
                diagnostics.Add(SafeYamlReader.TooLarge(fullPath));
                return null;
            }

            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.PipelineFileMissing, $"the pipeline file cannot be read: {ex.Message}", fullPath, 0, 0));
            return null;
        }

        YNode? root;
        try
        {
            root = SafeYamlReader.Read(text, fullPath);
        }
        catch (PipelineDiagnosticsException ex)
        {
            diagnostics.AddRange(ex.Diagnostics);
            return null;
        }

        if (root is null)
        {
            diagnostics.Add(new Diagnostic(DiagnosticCodes.EmptyPipeline, "the pipeline file is empty", fullPath, 1, 1, "A pipeline needs at least 'name:' and 'stages:'."));
            return null;
        }

        if (root is not YMapping top)
        {
            diagnostics.Add(root.Location.Error(DiagnosticCodes.WrongShape, $"the pipeline must be a mapping, found {root.KindName}"));
            return null;
        }

        return new Builder(fullPath, settings, diagnostics).Build(top);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]*$")]
    private static partial Regex StageIdPattern();

    private sealed class Builder(string file, PipelineLoadSettings settings, List<Diagnostic> diagnostics)
    {
        private readonly string directory = Path.GetDirectoryName(file)!;

        public PipelineDefinition? Build(YMapping top)
        {
            foreach (var (key, _) in top.Entries)
            {
                if (!TopLevelKeys.Contains(key.Value))
                {
                    diagnostics.Add(key.Location.Error(DiagnosticCodes.UnknownTopLevelKey, $"unknown top-level key '{key.Value}'", Suggestions.DidYouMean(key.Value, TopLevelKeys)
                        ?? "Top-level keys are: " + string.Join(", ", TopLevelKeys) + "."));
                }
            }

            var name = ReadName(top);
            var vars = ReadVars(top);
            var interpolator = new Interpolator(vars, settings.Environment);
            var plugins = new List<(string, SourceLocation)>();
            if (top.Get("plugins") is { } pluginsNode)
            {
                foreach (var item in ScalarList(pluginsNode, "plugins"))
                {
                    if (interpolator.Expand(item.Value, item.Location, null, diagnostics) is { } path)
                    {
                        plugins.Add((Path.GetFullPath(Path.Combine(directory, path)), item.Location));
                    }
                }
            }

            var store = settings.StoreOverride is { } overridden ? Path.GetFullPath(overridden)
                : top.Get("store") is { } storeNode && Scalar(storeNode, "store") is { } storeScalar && interpolator.Expand(storeScalar.Value, storeScalar.Location, null, diagnostics) is { } storePath
                    ? Path.GetFullPath(Path.Combine(directory, storePath))
                    : Path.Combine(directory, ".llamamoe");
            var seed = 0;
            if (top.Get("seed") is { } seedNode && Scalar(seedNode, "seed") is { } seedScalar
                && (seedScalar.Quoted || !int.TryParse(seedScalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed)))
            {
                diagnostics.Add(seedScalar.Location.Error(DiagnosticCodes.InvalidSetting,
                    seedScalar.Quoted ? $"'seed' must be an integer, found the quoted string \"{seedScalar.Value}\"" : $"'seed' must be an integer, found '{seedScalar.Value}'",
                    seedScalar.Quoted ? "Write the seed without quotes." : null));
            }

            var device = settings.DeviceOverride ?? DeviceNames.Auto;
            if (settings.DeviceOverride is null && top.Get("device") is { } deviceNode && Scalar(deviceNode, "device") is { } deviceScalar)
            {
                device = deviceScalar.Value;
                if (!DeviceNames.IsKnown(device))
                {
                    diagnostics.Add(deviceScalar.Location.Error(DiagnosticCodes.InvalidSetting, $"'device' must be {string.Join(", ", DeviceNames.All.SkipLast(1))} or {DeviceNames.All[^1]}, found '{device}'", Suggestions.DidYouMean(device, DeviceNames.All)));
                }
            }

            var threads = ReadThreads(top);
            var stages = ReadStages(top);
            if (stages is not null)
            {
                CheckGraph(stages);
            }

            return name is null || stages is null ? null : new PipelineDefinition
            {
                FilePath = file, Name = name, Vars = vars, Plugins = plugins, StoreDirectory = store, Seed = seed, Device = device, Threads = threads, Stages = stages,
            };
        }

        private int? ReadThreads(YMapping top)
        {
            if (top.Get("threads") is not { } threadsNode || Scalar(threadsNode, "threads") is not { } threadsScalar)
            {
                return null;
            }

            if (PipelineDefinition.TryParseThreads(threadsScalar.Value, out var threads))
            {
                return threads;
            }

            diagnostics.Add(threadsScalar.Location.Error(DiagnosticCodes.InvalidSetting, $"'threads' must be auto or a whole number from 1 to {PipelineDefinition.MaxThreads}, found '{threadsScalar.Value}'"));
            return null;
        }

        private string? ReadName(YMapping top)
        {
            if (top.Get("name") is not { } node)
            {
                diagnostics.Add(top.Location.Error(DiagnosticCodes.MissingKey, "the pipeline has no 'name'", "Add 'name: my-pipeline' (lower-case letters, digits, '.', '_', '-')."));
                return null;
            }

            if (Scalar(node, "name") is not { } scalar)
            {
                return null;
            }

            if (!NamePattern().IsMatch(scalar.Value))
            {
                diagnostics.Add(scalar.Location.Error(DiagnosticCodes.InvalidName, $"pipeline name '{scalar.Value}' is invalid", "Use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit."));
                return null;
            }

            return scalar.Value;
        }

        private Dictionary<string, string> ReadVars(YMapping top)
        {
            var vars = new Dictionary<string, string>(StringComparer.Ordinal);
            if (top.Get("vars") is { } node && Mapping(node, "vars") is { } mapping)
            {
                foreach (var (key, value) in mapping.Entries)
                {
                    if (settings.VariableOverrides.TryGetValue(key.Value, out var overridden))
                    {
                        vars[key.Value] = overridden;
                        continue;
                    }

                    if (Scalar(value, "vars." + key.Value) is not { } scalar)
                    {
                        continue;
                    }

                    if (scalar.Value.Contains("${" + key.Value + "}", StringComparison.Ordinal))
                    {
                        diagnostics.Add(scalar.Location.Error(DiagnosticCodes.RecursiveVariable, $"variable '{key.Value}' refers to itself"));
                        continue;
                    }

                    vars[key.Value] = new Interpolator(vars, settings.Environment).Expand(scalar.Value, scalar.Location, null, diagnostics) ?? string.Empty;
                }
            }

            foreach (var (key, value) in settings.VariableOverrides)
            {
                vars.TryAdd(key, value);
            }

            return vars;
        }

        private List<StageDefinition>? ReadStages(YMapping top)
        {
            if (top.Get("stages") is not { } node)
            {
                diagnostics.Add(top.Location.Error(DiagnosticCodes.MissingKey, "the pipeline has no 'stages'", "Add 'stages:' with at least one stage."));
                return null;
            }

            if (Mapping(node, "stages") is not { } mapping)
            {
                return null;
            }

            if (mapping.Entries.Count == 0)
            {
                diagnostics.Add(mapping.Location.Error(DiagnosticCodes.MissingKey, "'stages' is empty", "Add at least one stage."));
            }

            var stages = new List<StageDefinition>();
            foreach (var (key, value) in mapping.Entries)
            {
                if (!StageIdPattern().IsMatch(key.Value))
                {
                    diagnostics.Add(key.Location.Error(DiagnosticCodes.InvalidName, $"stage id '{key.Value}' is invalid", "Use lower-case letters, digits, '_' and '-', starting with a letter or digit."));
                    continue;
                }

                if (Mapping(value, "stages." + key.Value) is not { } body)
                {
                    continue;
                }

                foreach (var (stageKey, _) in body.Entries)
                {
                    if (!StageKeys.Contains(stageKey.Value))
                    {
                        diagnostics.Add(stageKey.Location.Error(DiagnosticCodes.UnknownStageKey, $"unknown key '{stageKey.Value}' in stage '{key.Value}'", Suggestions.DidYouMean(stageKey.Value, StageKeys)
                            ?? "Stage keys are: " + string.Join(", ", StageKeys) + "."));
                    }
                }

                YScalar? uses = null;
                if (body.Get("uses") is not { } usesNode)
                {
                    diagnostics.Add(key.Location.Error(DiagnosticCodes.MissingKey, $"stage '{key.Value}' has no 'uses'", "Name the plugin, for example 'uses: split-mlp/random'. 'llama-moe plugins' lists them."));
                }
                else
                {
                    uses = Scalar(usesNode, "uses");
                }

                var needs = body.Get("needs") is { } needsNode ? ScalarList(needsNode, "needs") : [];
                var with = body.Get("with") is { } withNode ? (withNode is YScalar { IsNull: true } ? null : Mapping(withNode, "with")) : null;
                if (uses is not null)
                {
                    stages.Add(new StageDefinition(key.Value, key.Location, uses, needs, with));
                }
            }

            return stages;
        }

        private void CheckGraph(List<StageDefinition> stages)
        {
            var ids = stages.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var stage in stages)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var need in stage.Needs)
                {
                    if (need.Value == stage.Id)
                    {
                        diagnostics.Add(need.Location.Error(DiagnosticCodes.BadNeed, $"stage '{stage.Id}' needs itself"));
                    }
                    else if (!seen.Add(need.Value))
                    {
                        diagnostics.Add(need.Location.Error(DiagnosticCodes.BadNeed, $"stage '{stage.Id}' lists '{need.Value}' in needs twice"));
                    }
                    else if (!ids.Contains(need.Value))
                    {
                        diagnostics.Add(need.Location.Error(DiagnosticCodes.UnknownNeed, $"stage '{stage.Id}' needs unknown stage '{need.Value}'", Suggestions.DidYouMean(need.Value, ids)));
                    }
                }
            }

            var cycle = StageGraph.FindCycle(stages);
            if (cycle is not null)
            {
                var first = stages.First(s => s.Id == cycle[0]);
                diagnostics.Add(first.Location.Error(DiagnosticCodes.Cycle, "the stages form a cycle: " + string.Join(" -> ", cycle), "Remove one of the 'needs' entries in the cycle."));
            }
        }

        private YScalar? Scalar(YNode node, string what)
        {
            if (node is YScalar scalar)
            {
                return scalar;
            }

            diagnostics.Add(node.Location.Error(DiagnosticCodes.WrongShape, $"'{what}' must be a scalar, found {node.KindName}"));
            return null;
        }

        private YMapping? Mapping(YNode node, string what)
        {
            if (node is YMapping mapping)
            {
                return mapping;
            }

            diagnostics.Add(node.Location.Error(DiagnosticCodes.WrongShape, $"'{what}' must be a mapping, found {node.KindName}"));
            return null;
        }

        private List<YScalar> ScalarList(YNode node, string what)
        {
            if (node is YScalar single)
            {
                return single.IsNull ? [] : [single];
            }

            if (node is not YSequence sequence)
            {
                diagnostics.Add(node.Location.Error(DiagnosticCodes.WrongShape, $"'{what}' must be a list, found {node.KindName}"));
                return [];
            }

            var result = new List<YScalar>();
            foreach (var item in sequence.Items)
            {
                if (Scalar(item, what + " entry") is { } scalar)
                {
                    result.Add(scalar);
                }
            }

            return result;
        }
    }
}
