using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Exports a dense LLaMA or a Mixtral-compatible MoE to GGUF for llama.cpp's <c>llama</c> architecture: llama.* hyper-parameters
/// (plus <c>expert_count</c>/<c>expert_used_count</c>), SentencePiece tokenizer metadata, tensors in llama.cpp names with
/// q/k rows permuted back to the interleaved RoPE layout; MoE experts are stacked into
/// <c>ffn_{gate,up,down}_exps</c> (torch (E, m, H) / (E, H, m); GGUF ne reversed) with the scale factor folded into the down
/// projection. Norm weights are always F32; matrices use the requested type.
/// </summary>
public static class GgufLlamaExporter
{
    /// <summary>The llama.cpp architecture name.</summary>
    public const string Architecture = "llama";

    /// <summary>Exports a dense model's config and in-memory tensors (Hugging Face names; the caller keeps them).</summary>
    public static void ExportDense(LlamaConfig config, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string? tokenizerDirectory, string path, GgufTensorType type = GgufTensorType.F32)
    {
        var byName = tensors.ToDictionary(p => p.Key, p => StreamedTensor.Of(p), StringComparer.Ordinal);
        Export(config, name => byName.TryGetValue(name, out var t) ? t : throw MoeCheckpoint.Mismatch(name, "is missing"), null, tokenizerDirectory, path, type);
    }

    /// <summary>Exports a dense model directory tensor by tensor (each read in its own dtype when written).</summary>
    public static void ExportDense(string directory, string? tokenizerDirectory, string path, GgufTensorType type = GgufTensorType.F32)
    {
        var config = LlamaConfigJson.Read(Path.Combine(directory, ModelDirectory.ConfigFileName));
        using var files = ShardedCheckpoint.Open(directory);
        var byName = CheckpointTensors.Entries(files, name => (name, 1.0)).ToDictionary(t => t.Name, StringComparer.Ordinal);
        Export(config, name => byName.TryGetValue(name, out var t) ? t : throw MoeCheckpoint.Mismatch(name, "is missing"), null, tokenizerDirectory, path, type);
    }

    /// <summary>Exports an MoE checkpoint tensor by tensor (LMOE121x unless it is Mixtral-compatible).</summary>
    public static void ExportMoe(MoeCheckpoint checkpoint, string? tokenizerDirectory, string path, GgufTensorType type = GgufTensorType.F32)
    {
        MoeExportChecks.RequireMixtralCompatible(checkpoint, "gguf");
        Export(checkpoint.Config.Dense, checkpoint.Entry, checkpoint.Config, tokenizerDirectory, path, type);
    }

    private static void Export(LlamaConfig config, Func<string, StreamedTensor> get, MoeConfig? layout, string? tokenizerDirectory, string path, GgufTensorType type)
    {
        GgufModelTensors.RequireExpressibleAttention(config, Architecture);
        var writer = new GgufWriter();
        GgufModelTensors.AddHyperParameters(writer, Architecture, config, layout is null ? config.IntermediateSize : layout.ExpertSizes[0][0]);
        if (layout is not null)
        {
            writer.AddUInt32("llama.expert_count", (uint)layout.ExpertCount);
            writer.AddUInt32("llama.expert_used_count", (uint)layout.TopK);
        }

        if (tokenizerDirectory is not null)
        {
            GgufTokenizerMetadata.Add(writer, tokenizerDirectory, config);
        }

        writer.AddTensor(get(DenseTensorNames.Embedding) with { Name = GgufTensorNames.Embedding }, type);
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            GgufModelTensors.AddAttentionAndNorms(writer, get, config, i, type, interleaveRope: true);
            if (layout is null)
            {
                foreach (var (gguf, hf) in GgufTensorNames.DenseMlp)
                {
                    writer.AddTensor(get(DenseTensorNames.InLayer(i, hf)) with { Name = GgufTensorNames.Block(i, gguf) }, type);
                }

                continue;
            }

            GgufModelTensors.AddRoutedExperts(writer, get, layout, i, type);
        }

        writer.AddTensor(get(DenseTensorNames.FinalNorm) with { Name = GgufTensorNames.FinalNorm }, GgufTensorType.F32);
        if (!config.TieWordEmbeddings)
        {
            writer.AddTensor(get(DenseTensorNames.LmHead) with { Name = GgufTensorNames.Output }, type);
        }

        writer.Write(path);
    }

    internal static LlamaMoeException Unsupported(string what, string key) => GgufModelTensors.Unsupported(Architecture, what, key);
}
