using LlamaMoe.Modeling;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>split-attention/gqa</c> (LLaMA-MoE v2 attention-MoE, spec §2): every listed layer's attention becomes
/// <c>kv_heads · split</c> experts, expert <c>g·split + s</c> owning query heads <c>g·G + s·G/split …</c> of KV group g and a
/// copy of KV head g, plus a router per layer (seeded Kaiming-uniform like v2's fresh <c>nn.Linear</c>, or zero). The
/// artifact is consumed by <c>build-moe</c>, which slices the experts from the dense weights while streaming.
/// </summary>
[PipelineStep("split-attention/gqa", typeof(GqaAttentionSplitOptions),
    Description = "Attention experts from GQA groups (split factor copies K/V into finer experts) with their routers, for build-moe's attention-MoE.",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel],
    Produces = ArtifactKinds.AttentionExperts)]
public sealed class GqaAttentionSplitStep : PipelineStep<GqaAttentionSplitOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, GqaAttentionSplitOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ModelArtifacts.HostDevice(context);
        var dense = DenseModelConfig.Resolve(context, options.Model);
        var config = DenseModelConfig.Read(dense);
        var layers = options.Layers?.ToArray() ?? Enumerable.Range(0, config.NumHiddenLayers).ToArray();
        var partition = AttentionExpertPartition.FromConfig(config, options.Split);

        // Range and fit checks of the layers (LMOE2301/2302); top-k and scale are build-moe's, any valid value serves here.
        new AttentionMoeOptions(partition.ExpertCount, 1, 1.0, options.Split, layers).Validate(config);
        var seed = options.Seed ?? context.Services.GetRequiredService<ISeedSource>().Derive(context.StageId + "/attention-router");
        using var scope = NewDisposeScope();
        var routers = new Dictionary<int, Tensor>();
        foreach (var layer in layers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            routers[layer] = AttentionMoeSlicer.RouterWeight(partition.ExpertCount, config.HiddenSize, options.RouterInit, seed + layer); // (n, H)
            context.Progress.Report(routers.Count, layers.Length, $"layer {layer}");
        }

        var init = options.RouterInit == AttentionRouterInit.Zero ? "zero" : "kaiming-uniform";
        AttentionExpertsArtifact.Write(context.OutputDirectory, init, config, options.Split, partition, layers, routers);
        context.Outputs["experts"] = partition.ExpertCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["query-heads-per-expert"] = partition.QueryHeadsPerExpert.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
