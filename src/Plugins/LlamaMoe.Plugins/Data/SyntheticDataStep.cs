using System.Globalization;
using LlamaMoe.Modeling.Synthetic;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Data;

/// <summary>
/// <c>data/synthetic</c>: writes the deterministic multi-domain corpus of <see cref="SyntheticCorpusGenerator"/>. Each file is
/// named by an output (<c>corpus</c>, <c>general</c>, <c>mathcode</c>, <c>eval-text</c>, <c>eval-conversation</c>,
/// <c>eval-math</c>, <c>eval-code</c>) holding its file name inside the artifact, so a later stage writes
/// <c>${stages.ID.outputs.path}/${stages.ID.outputs.corpus}</c>.
/// </summary>
[PipelineStep("data/synthetic", typeof(SyntheticDataOptions), Description = "Generate the deterministic synthetic corpus (text, chat mixes, held-out sets).", Version = "3",
    Produces = ArtifactKinds.Dataset)]
public sealed class SyntheticDataStep : PipelineStep<SyntheticDataOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, SyntheticDataOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var summary = SyntheticCorpusGenerator.Write(context.OutputDirectory,
            new SyntheticCorpusOptions(options.Seed ?? context.Seed, options.People, options.TrainExamples, options.EvalExamples));
        foreach (var file in SyntheticCorpusGenerator.FileNames)
        {
            context.Outputs[Path.GetFileNameWithoutExtension(file)] = file;
        }

        var c = CultureInfo.InvariantCulture;
        context.Outputs["corpus-documents"] = summary.CorpusDocuments.ToString(c);
        context.Log.Info($"corpus: {summary.CorpusDocuments} documents; chat: {summary.GeneralExamples} general, {summary.MathCodeExamples} math/code; " +
            $"held out: {summary.EvalConversation} conversation, {summary.EvalMath} math, {summary.EvalCode} code");
        context.Progress.Report(1, 1, "generated");
        return Task.CompletedTask;
    }
}
