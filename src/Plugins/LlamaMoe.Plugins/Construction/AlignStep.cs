using System.Globalization;
using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Alignment;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>align</c> (optional, LLaMA-MoE v2 distribution alignment, spec §1.4): runs the dense model and the converted MoE
/// model over calibration data and, layer by layer, rescales every MoE module's output so its per-dimension mean and
/// variance match the dense model's on those tokens, folding the correction into the experts' w2 / o_proj (and biases).
/// </summary>
[PipelineStep("align", typeof(AlignOptions),
    Description = "Align each MoE layer's output distribution (mean, variance per dimension) to the dense model's, folded into the expert weights (LLaMA-MoE v2).",
    Version = "1",
    Consumes = [ArtifactKinds.MoeModel, ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.MoeModel)]
public sealed class AlignStep : PipelineStep<AlignOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, AlignOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TorchRuntime.EnsureLoaded();
        var moeInputs = context.InputsOfKind(ArtifactKinds.MoeModel);
        if (moeInputs.Count != 1)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.MissingInput, $"align needs exactly one MoE model input, found {moeInputs.Count}", key: context.StageId,
                advice: "List the build-moe stage in needs.");
        }

        var moeDirectory = moeInputs[0].Directory;
        var dense = DenseModelConfig.Resolve(context, options.Model);
        var tokenizer = context.Services.GetRequiredService<ITokenizerCache>().GetOrAdd(Path.GetFullPath(dense), TokenizerLoader.Load);
        var format = options.Format.ToString().ToLowerInvariant();
        var samples = CalibrateStep.WithinBudget(CalibrationCorpus.Load(options.Data, format, tokenizer, options.Template, options.MaxLength), options.Tokens);
        context.Log.Info($"{samples.Count} sequences, {samples.Sum(s => s.Length)} tokens");

        var device = ModelArtifacts.DeviceOf(context);
        using var denseModel = LlamaForCausalLM.FromDirectory(dense, device);
        using var moeModel = CausalLanguageModelLoader.Load(moeDirectory, device);
        var (aligned, modules) = DistributionAlignment.Align(denseModel, moeModel, samples.Select(s => s.Ids).ToList(),
            new AlignmentOptions(options.Bias, options.Attention, options.Mlp), cancellationToken);
        using (aligned)
        {
            foreach (var module in modules)
            {
                context.Log.Info(string.Create(CultureInfo.InvariantCulture, $"layer {module.Layer} {module.Module}: mean scale {module.MeanScale:F4}, max |shift| {module.MaxAbsShift:G4}"));
            }

            // Save publishes through a temporary sibling: write inside the resume folder, then move the files in.
            var staging = Path.Combine(context.ResumeDirectory, "aligned");
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            CausalLanguageModelLoader.Save(aligned, staging, moeDirectory, (long)options.MaxShardMb << 20);
            foreach (var file in Directory.EnumerateFiles(staging))
            {
                File.Move(file, Path.Combine(context.OutputDirectory, Path.GetFileName(file)), overwrite: true);
            }

            Directory.Delete(staging, recursive: true);
        }

        context.Outputs["aligned-modules"] = modules.Count.ToString(CultureInfo.InvariantCulture);
        context.Outputs["tokens"] = (modules.Count > 0 ? modules[0].Tokens : 0).ToString(CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
