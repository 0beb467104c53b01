using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Export;

/// <summary>
/// <c>export</c>: writes the needed model (a dense-model or moe-model stage, or the <c>model:</c> folder) in each of the
/// listed formats: <c>native/</c>, <c>mixtral/</c>, <c>llama-moe-v2/</c> and <c>model.gguf</c> inside the stage's output.
/// An MoE model is read once for all formats. A format the model does not fit fails with the exporter's coded error
/// placed at that entry of <c>formats</c>, or, with <c>skip-unsupported</c>, is skipped with a warning. Outputs:
/// <c>formats</c> (written, comma-separated), <c>skipped</c>, and one output per written format naming its entry
/// (<c>${stages.ID.outputs.path}/${stages.ID.outputs.mixtral}</c>). Each exported folder gets a Hugging Face model card
/// (README.md: method, construction recipe, active/total parameters) with the evaluation table of the exported stage
/// when an <c>evaluate</c> stage that scored it is in <c>needs</c>.
/// </summary>
[PipelineStep("export", typeof(ExportOptions),
    Description = "Export a dense or MoE model as native, mixtral (Hugging Face), llama-moe-v2, qwen2-moe (residual variant) and/or gguf (llama.cpp).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.MoeModel, ArtifactKinds.Metrics],
    Produces = ArtifactKinds.Files)]
public sealed class ExportStep : PipelineStep<ExportOptions>
{
    /// <summary>The codes with which an exporter says that a model does not fit a format (rather than that it is broken).</summary>
    private static readonly HashSet<string> DoesNotFitCodes =
    [
        ExportErrorCodes.GgufUnsupportedModel, ExportErrorCodes.GgufTokenizerUnsupported, ExportErrorCodes.ResidualExpertNotExportable,
        ExportErrorCodes.AttentionMoeNotExportable, ExportErrorCodes.DenseLayersNotExportable, ExportErrorCodes.UnequalExpertsNotExportable,
        ExportErrorCodes.RouterNotExportable, ExportErrorCodes.UnknownFormat, ExportErrorCodes.QwenNotExpressible, ExportErrorCodes.GgufRoutingNotExpressible,
    ];

    /// <summary>The exporter's name of a format (its YAML spelling).</summary>
    public static string FormatName(ExportFormat format) => format switch
    {
        ExportFormat.Native => "native",
        ExportFormat.Mixtral => "mixtral",
        ExportFormat.LlamaMoeV2 => "llama-moe-v2",
        ExportFormat.Qwen2Moe => "qwen2-moe",
        _ => "gguf",
    };

    /// <summary>The file or folder a format is written to, relative to the step's output.</summary>
    public static string EntryName(ExportFormat format) => format == ExportFormat.Gguf ? "model.gguf" : FormatName(format);

    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, ExportOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ModelArtifacts.HostDevice(context);
        var source = ResolveModel(context, options);
        var dense = ModelExporter.IsDense(source);
        using var checkpoint = dense ? null : ModelExporter.ReadMoe(source);
        var evaluation = EvaluationOf(context, options);
        var written = new List<string>();
        var skipped = new List<string>();
        for (var i = 0; i < options.Formats.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var format = options.Formats[i];
            var name = FormatName(format);
            var target = Path.Combine(context.OutputDirectory, EntryName(format));
            context.Progress.Report(i, options.Formats.Count, $"writing {name}");
            try
            {
                if (dense && format != ExportFormat.Gguf)
                {
                    throw new LlamaMoeException(ExportErrorCodes.UnknownFormat, $"a dense model is exported only to gguf, not {name}",
                        advice: "Export the MoE stage instead, or list only gguf for a dense model.");
                }

                var summary = checkpoint is null
                    ? ModelExporter.Export(source, name, target, options.GgufType)
                    : ModelExporter.ExportMoe(checkpoint, source, name, target, options.GgufType, evaluation);
                context.Log.Info("exported " + summary.Replace(target, EntryName(format), StringComparison.Ordinal));
                context.Outputs[name] = EntryName(format);
                written.Add(name);
            }
            catch (LlamaMoeException ex) when (DoesNotFitCodes.Contains(ex.Code))
            {
                Remove(target);
                var entry = $"formats[{i}]";
                if (!options.SkipUnsupported)
                {
                    throw new LlamaMoeException(ex.Code, $"{ex.Message}{(ex.Key is null ? string.Empty : $" (model key '{ex.Key}')")}", key: entry,
                        advice: $"{(ex.Advice is null ? string.Empty : LlamaMoeException.AsSentence(ex.Advice))} Or remove '{name}' from formats, or set skip-unsupported: true.".TrimStart(), inner: ex);
                }

                context.Log.Warning($"skipped {name}: {ex.Code}: {ex.Message}");
                skipped.Add(name);
            }
        }

        context.Outputs["formats"] = string.Join(",", written);
        context.Outputs["skipped"] = string.Join(",", skipped);
        context.Progress.Report(options.Formats.Count, options.Formats.Count, written.Count == 0 ? "nothing written" : "exported " + string.Join(", ", written));
        return Task.CompletedTask;
    }

    /// <summary>The scores an evaluate stage in needs gave the exported stage (<c>models/STAGE/metrics.json</c>), or null.</summary>
    private static IReadOnlyList<Modeling.Evaluation.TaskScore>? EvaluationOf(IStepContext context, ExportOptions options)
    {
        var models = ModelArtifacts.ModelInputs(context);
        if (options.Model is not null || models.Count != 1)
        {
            return null;
        }

        return context.InputsOfKind(ArtifactKinds.Metrics)
            .Select(m => Modeling.Evaluation.EvaluationReport.TryReadScores(m.File(Path.Combine("models", models[0].StageId, "metrics.json"))))
            .FirstOrDefault(s => s is { Count: > 0 });
    }

    private static string ResolveModel(IStepContext context, ExportOptions options)
    {
        var models = ModelArtifacts.ModelInputs(context);
        if (models.Count > 0 && options.Model is not null)
        {
            throw new LlamaMoeException(PluginErrorCodes.ModelInput, $"stage '{context.StageId}' has a model stage in needs and a model: folder", key: "model",
                advice: "Export either the needed stage or the model: folder; remove one of them.");
        }

        if (models.Count == 0 && options.Model is null)
        {
            throw new LlamaMoeException(PluginErrorCodes.ModelInput, $"stage '{context.StageId}' has no model to export", key: "needs",
                advice: "List a dense-model or moe-model stage under 'needs', or set 'with: { model: FOLDER }'.");
        }

        return options.Model ?? ModelArtifacts.SingleModelInput(context).Directory;
    }

    private static void Remove(string target)
    {
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }
        else if (File.Exists(target))
        {
            File.Delete(target);
        }
    }
}
