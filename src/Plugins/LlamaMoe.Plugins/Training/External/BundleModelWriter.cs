using System.Globalization;
using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>What the bundle's model/ folder holds and how it relates to our model.</summary>
/// <param name="Profile">mixtral, qwen2-moe, llamamoe or llama (dense).</param>
/// <param name="DecoderLayer">The Python decoder layer class (FSDP wrap unit, ZeRO-3 leaf).</param>
/// <param name="Folds">Tensor-name regex → the factor multiplied into those tensors at export.</param>
/// <param name="Frozen">Tensor-name regexes that must not train (the zeroed shared-expert gate).</param>
public sealed record BundleModel(string Profile, string DecoderLayer, IReadOnlyList<(string Pattern, double Scale)> Folds, IReadOnlyList<string> Frozen);

/// <summary>
/// Writes the input model as a stock Hugging Face folder: 8-expert top-k MoE → Mixtral (scale folded into w2), residual
/// variant → Qwen2-MoE (shared gate zeroed and frozen), anything else or <c>modeling: llamamoe</c> → our llamamoe profile;
/// a dense model → Llama. Adds <c>model/llamamoe.json</c> with the profile, folds, residual gate and source digest.
/// </summary>
public static class BundleModelWriter
{
    /// <summary>The extra-facts file next to config.json.</summary>
    public const string FactsName = "llamamoe.json";

    /// <summary>Writes <paramref name="source"/> into <paramref name="destination"/> (LMOE3403 when stock classes cannot express it).</summary>
    public static BundleModel Write(string source, string destination, TrainModeling modeling, string sourceDigest)
    {
        Directory.CreateDirectory(destination);
        BundleModel model;
        if (ModelExporter.IsDense(source))
        {
            foreach (var file in Directory.EnumerateFiles(source).Where(f => IsWeightFile(Path.GetFileName(f)) || Path.GetFileName(f) == ModelDirectory.ConfigFileName))
            {
                File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
            }

            ModelDirectory.CopyCompanionFiles(source, destination);
            model = new BundleModel("llama", "LlamaDecoderLayer", [], []);
        }
        else
        {
            using var checkpoint = ModelExporter.ReadMoe(source);
            model = modeling == TrainModeling.Llamamoe ? WriteNative(checkpoint, source, destination) : WriteStock(checkpoint, source, destination);
        }

        var folds = new JsonArray(model.Folds.Select(f => (JsonNode)new JsonObject { ["pattern"] = f.Pattern, ["scale"] = f.Scale }).ToArray());
        BundleFiles.WriteText(Path.Combine(destination, FactsName), BundleFiles.Json(new JsonObject
        {
            ["profile"] = model.Profile,
            ["folds"] = folds,
            ["residual_gate"] = model.Profile == "qwen2-moe" ? "zeroed-frozen" : null,
            ["source_digest"] = sourceDigest,
        }));
        return model;
    }

    private static BundleModel WriteNative(MoeCheckpoint checkpoint, string source, string destination)
    {
        NativeMoeFormat.Write(checkpoint, destination, source);
        return new BundleModel("llamamoe", "LlamaMoeDecoderLayer", [], []);
    }

    private static BundleModel WriteStock(MoeCheckpoint checkpoint, string source, string destination)
    {
        var layout = checkpoint.Config;
        try
        {
            if (layout.ResidualSize > 0)
            {
                Qwen2MoeFormat.Write(checkpoint, destination, source);
                return new BundleModel("qwen2-moe", "Qwen2MoeDecoderLayer",
                    [.. ScaleFolds(checkpoint, @"mlp\.experts\.\d+\.down_proj"), (@"^model\.layers\.\d+\.mlp\.shared_expert\.down_proj\.weight$", 2.0)],
                    [@"^model\.layers\.\d+\.mlp\.shared_expert_gate\.weight$"]);
            }

            MixtralFormat.Write(checkpoint, destination, source);
            return new BundleModel("mixtral", "MixtralDecoderLayer", ScaleFolds(checkpoint, @"block_sparse_moe\.experts\.\d+\.w2"), []);
        }
        catch (LlamaMoeException ex) when (ex.Code is ExportErrorCodes.QwenNotExpressible or ExportErrorCodes.AttentionMoeNotExportable or ExportErrorCodes.DenseLayersNotExportable
            or ExportErrorCodes.UnequalExpertsNotExportable or ExportErrorCodes.RouterNotExportable or ExportErrorCodes.ResidualExpertNotExportable or ExportErrorCodes.GgufUnsupportedModel)
        {
            if (Directory.Exists(destination))
            {
                Directory.Delete(destination, recursive: true);
            }

            throw new LlamaMoeException(ExternalTrainingErrorCodes.ProfileCannotExpress,
                $"the stock transformers classes cannot express this model: {ex.Message}", key: "executor.modeling",
                advice: "Set executor.modeling: llamamoe (our Python package) for attention-MoE, dense contract layers, unequal experts or other routers.", inner: ex);
        }
    }

    private static List<(string Pattern, double Scale)> ScaleFolds(MoeCheckpoint checkpoint, string expertTensor)
    {
        var layout = checkpoint.Config;
        var scales = layout.MoeLayers.Select((layer, i) => (Layer: layer, Scale: layout.ScaleFactors[i])).Where(p => p.Scale != 1.0).ToList();
        if (scales.Count == 0)
        {
            return [];
        }

        if (scales.Count == layout.MoeLayers.Count && scales.Select(s => s.Scale).Distinct().Count() == 1)
        {
            return [($@"^model\.layers\.\d+\.{expertTensor}\.weight$", scales[0].Scale)];
        }

        return scales.Select(s => ($@"^model\.layers\.{s.Layer.ToString(CultureInfo.InvariantCulture)}\.{expertTensor}\.weight$", s.Scale)).ToList();
    }

    private static bool IsWeightFile(string name) => name.EndsWith(".safetensors", StringComparison.Ordinal) || name == ShardedCheckpoint.IndexFileName;
}
