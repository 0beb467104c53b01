using LlamaMoe.Modeling;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Plugins.Common;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// <c>build-moe</c>: assembles a native MoE model from the dense model, an expert partition and router weights,
/// streaming layer by layer and tensor by tensor (MoeConverter): the dense layers' MLPs become experts (plus the
/// partition's residual expert), contract layers stay dense, every MoE layer gets its router. With an attention-experts
/// input (<c>split-attention/gqa</c>) the listed layers' attention is sliced into attention experts too (v2 attention-MoE).
/// </summary>
[PipelineStep("build-moe", typeof(BuildMoeOptions),
    Description = "Assemble a native MoE model from a dense model, an expert partition and router weights (streamed layer by layer).",
    Version = "1",
    Consumes = [ArtifactKinds.DenseModel, ArtifactKinds.ExpertPartition, ArtifactKinds.RouterWeights, ArtifactKinds.AttentionExperts],
    Produces = ArtifactKinds.MoeModel)]
public sealed class BuildMoeStep : PipelineStep<BuildMoeOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, BuildMoeOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ModelArtifacts.HostDevice(context);
        var dense = DenseModelConfig.Resolve(context, options.Model);
        var partitionDirectory = Single(context, ArtifactKinds.ExpertPartition, "a split-mlp/* stage").Directory;
        var routerDirectory = Single(context, ArtifactKinds.RouterWeights, "a router-init/* stage").Directory;
        if (!DenseModelConfig.IsDenseLlama(dense))
        {
            throw new LlamaMoeException(ConstructionPluginErrors.NotDenseModel, "build-moe needs a dense LLaMA model (model_type llama)", dense,
                advice: "Put the import stage (not an MoE model) in needs.");
        }

        var config = DenseModelConfig.Read(dense);
        var partition = ModelPartition.Read(partitionDirectory);
        var router = RouterWeightsArtifact.ReadHeader(routerDirectory);
        CheckShapes(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, partition, router, partitionDirectory, routerDirectory);
        var residual = partition.Layers.Any(l => l.Residual is not null);
        var experts = partition.Layers[0].Experts.Count;
        var conversion = new MoeConversionOptions(
            options.TopK,
            options.ScaleFactor ?? (residual ? 1.0 : (double)experts / options.TopK),
            new MoeRouterSpec(options.RouterNetwork, options.RoutingWeights, options.Noisy),
            options.ContractFirst,
            options.ContractLast,
            options.LayerScaleFactors,
            (long)options.MaxShardMb << 20);
        var moeLayers = conversion.MoeLayers(config.NumHiddenLayers);
        using var scope = NewDisposeScope();
        var plans = new Dictionary<int, MoeLayerPlan>();
        foreach (var layer in moeLayers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            plans[layer] = new MoeLayerPlan(partition.Layers[layer], RouterWeightsArtifact.ReadLayer(routerDirectory, layer));
        }

        // MoeConverter publishes through a temporary sibling: build inside the resume folder, then move the files in.
        var staging = Path.Combine(context.ResumeDirectory, "moe");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        var attention = AttentionPlan(context, options, config);
        context.Progress.Report(0, moeLayers.Count, "converting");
        MoeConfig moe;
        try
        {
            moe = MoeConverter.Convert(dense, staging, plans, conversion, attention);
        }
        finally
        {
            attention?.DisposeRouters();
        }

        cancellationToken.ThrowIfCancellationRequested();
        foreach (var file in Directory.EnumerateFiles(staging))
        {
            File.Move(file, Path.Combine(context.OutputDirectory, Path.GetFileName(file)));
        }

        Directory.Delete(staging, recursive: true);
        var attentionInput = context.InputsOfKind(ArtifactKinds.AttentionExperts).FirstOrDefault();
        new Modeling.Export.ConstructionRecipe(ProducerOf(partitionDirectory), ProducerOf(routerDirectory), context.Seed,
            Modeling.Export.ConstructionRecipe.HuggingFaceIdOf(dense), attention is null || attentionInput is null ? null : ProducerOf(attentionInput.Directory))
            .Write(context.OutputDirectory);
        context.Progress.Report(moeLayers.Count, moeLayers.Count, "done");
        context.Outputs["experts"] = moe.ExpertCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["top-k"] = moe.TopK.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["moe-layers"] = string.Join(",", moe.MoeLayers);
        if (attention is not null)
        {
            context.Outputs["attention-experts"] = attention.Options.NumExperts.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Outputs["attention-top-k"] = attention.Options.TopK.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Task.CompletedTask;
    }

    /// <summary>The plugin that produced an input artifact (for the model card's recipe), or null when its manifest cannot be read.</summary>
    private static string? ProducerOf(string artifactDirectory)
    {
        try
        {
            return ArtifactManifest.Read(artifactDirectory).Producer.Plugin;
        }
        catch (Exception ex) when (ex is IOException or LlamaMoeException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The attention-MoE plan of the attention-experts input with this stage's top-k, scale and weights; null without that input.
    private static AttentionMoePlan? AttentionPlan(IStepContext context, BuildMoeOptions options, LlamaConfig config)
    {
        var inputs = context.InputsOfKind(ArtifactKinds.AttentionExperts);
        if (inputs.Count == 0)
        {
            if (options.AttentionTopK is not null || options.AttentionScaleFactor is not null || options.AttentionRoutingWeights is not null)
            {
                throw new LlamaMoeException(ConstructionPluginErrors.MissingInput, "attention-top-k, attention-scale-factor and attention-routing-weights need a split-attention stage in needs",
                    key: context.StageId, advice: "Add a split-attention/gqa stage to needs, or remove the attention options.");
            }

            return null;
        }

        var directory = Single(context, ArtifactKinds.AttentionExperts, "one split-attention/gqa stage").Directory;
        var header = AttentionExpertsArtifact.ReadHeader(directory);
        var routers = AttentionExpertsArtifact.ReadRouters(directory, header, config);
        try
        {
            var attentionOptions = new AttentionMoeOptions(
                header.Experts,
                options.AttentionTopK ?? AttentionMoeConversion.DefaultTopK(header.Experts),
                options.AttentionScaleFactor ?? 1.0,
                header.Split,
                header.Layers,
                options.AttentionRoutingWeights ?? RoutingWeights.SoftmaxRenormalized).Validate(config);
            return new AttentionMoePlan(attentionOptions, routers);
        }
        catch
        {
            foreach (var router in routers.Values)
            {
                router.Dispose();
            }

            throw;
        }
    }

    private static ArtifactHandle Single(IStepContext context, string kind, string what)
    {
        var inputs = context.InputsOfKind(kind);
        return inputs.Count == 1 ? inputs[0]
            : throw new LlamaMoeException(ConstructionPluginErrors.MissingInput, $"build-moe needs exactly one {kind} input, found {inputs.Count}", key: context.StageId,
                advice: $"List {what} in the stage's needs.");
    }

    private static void CheckShapes(int layers, int hidden, int intermediate, ModelPartition partition, RouterHeader router, string partitionDirectory, string routerDirectory)
    {
        if (partition.Layers.Count != layers || partition.Intermediate != intermediate || partition.Layers.Any(l => l.Experts.Count != partition.Layers[0].Experts.Count))
        {
            throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch,
                $"the partition covers {partition.Layers.Count} layers of {partition.Intermediate} neurons, the model has {layers} layers of {intermediate}, and every layer needs the same expert count",
                partitionDirectory, advice: "Split the same dense model that build-moe converts.");
        }

        if (router.Layers != layers || router.Hidden != hidden || router.Experts != partition.Layers[0].Experts.Count)
        {
            throw new LlamaMoeException(ConstructionPluginErrors.ArtifactMismatch,
                $"the routers are {router.Layers} layers of ({router.Experts}, {router.Hidden}); the model and partition need {layers} layers of ({partition.Layers[0].Experts.Count}, {hidden})",
                routerDirectory, advice: "Initialise the routers for the same model with 'experts' equal to the split's experts.");
        }
    }
}
