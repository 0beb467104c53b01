using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Modeling.Checkpoints;
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
    /// <summary>Exports a dense model directory's config and tensors (Hugging Face names).</summary>
    public static void ExportDense(LlamaConfig config, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string? tokenizerDirectory, string path, GgufTensorType type = GgufTensorType.F32) =>
        Export(config, tensors, null, tokenizerDirectory, path, type);

    /// <summary>Exports an MoE checkpoint (LMOE121x unless it is Mixtral-compatible).</summary>
    public static void ExportMoe(MoeCheckpoint checkpoint, string? tokenizerDirectory, string path, GgufTensorType type = GgufTensorType.F32)
    {
        MoeExportChecks.RequireMixtralCompatible(checkpoint, "gguf");
        Export(checkpoint.Config.Dense, checkpoint.Tensors, checkpoint.Config, tokenizerDirectory, path, type);
    }

    private static void Export(LlamaConfig config, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, MoeConfig? layout, string? tokenizerDirectory, string path, GgufTensorType type)
    {
        if (config.MlpBias || config.AttentionBias || config.ExplicitHeadDim is { } hd && hd * config.NumAttentionHeads != config.HiddenSize)
        {
            throw Unsupported("biases or a head_dim other than hidden_size / num_attention_heads", config.MlpBias || config.AttentionBias ? "attention_bias" : "head_dim");
        }

        if (config.RopeScaling is { } scaling && scaling.Type != "linear")
        {
            throw Unsupported($"rope_scaling type '{scaling.Type}' (only linear is exported)", "rope_scaling");
        }

        var byName = tensors.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        Tensor Get(string name) => byName.TryGetValue(name, out var t) ? t : throw MoeCheckpoint.Mismatch(name, "is missing");
        var writer = new GgufWriter();
        WriteHyperParameters(writer, config, layout);
        if (tokenizerDirectory is not null)
        {
            GgufTokenizerMetadata.Add(writer, tokenizerDirectory, config);
        }

        using var scope = NewDisposeScope();
        writer.AddTensor(GgufTensorNames.Embedding, Get(MoeTensorNames.Embedding), type);
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            foreach (var (gguf, hf) in GgufTensorNames.AttentionAndNorms)
            {
                var t = Get(MoeTensorNames.InLayer(i, hf));
                t = hf switch
                {
                    "self_attn.q_proj.weight" => RopePermutation.HalvesToInterleaved(t, config.NumAttentionHeads),
                    "self_attn.k_proj.weight" => RopePermutation.HalvesToInterleaved(t, config.NumKeyValueHeads),
                    _ => t,
                };
                writer.AddTensor(GgufTensorNames.Block(i, gguf), t, t.Dimensions == 1 ? GgufTensorType.F32 : type);
            }

            if (layout is null)
            {
                foreach (var (gguf, hf) in GgufTensorNames.DenseMlp)
                {
                    writer.AddTensor(GgufTensorNames.Block(i, gguf), Get(MoeTensorNames.InLayer(i, hf)), type);
                }

                continue;
            }

            var experts = Enumerable.Range(0, layout.ExpertCount).ToArray();
            var scale = layout.ScaleFactors[layout.IndexOfMoeLayer(i)];
            writer.AddTensor($"blk.{i}.ffn_gate_inp.weight", Get(MoeTensorNames.Router(i)), GgufTensorType.F32);                                      // (E, H)
            writer.AddTensor($"blk.{i}.ffn_gate_exps.weight", stack(experts.Select(j => Get(MoeTensorNames.Expert(i, j, "w1"))).ToArray()), type);   // (E, m, H)
            writer.AddTensor($"blk.{i}.ffn_up_exps.weight", stack(experts.Select(j => Get(MoeTensorNames.Expert(i, j, "w3"))).ToArray()), type);     // (E, m, H)
            writer.AddTensor($"blk.{i}.ffn_down_exps.weight", stack(experts.Select(j => Get(MoeTensorNames.Expert(i, j, "w2"))).ToArray()).mul(scale), type); // (E, H, m)
        }

        writer.AddTensor(GgufTensorNames.FinalNorm, Get(MoeTensorNames.FinalNorm), GgufTensorType.F32);
        if (!config.TieWordEmbeddings)
        {
            writer.AddTensor(GgufTensorNames.Output, Get(MoeTensorNames.LmHead), type);
        }

        writer.Write(path);
    }

    private static void WriteHyperParameters(GgufWriter writer, LlamaConfig config, MoeConfig? layout)
    {
        writer.AddString("general.architecture", "llama");
        writer.AddString("general.name", config.ExtraProperties.TryGetValue("_name_or_path", out var n) && n?.GetValue<string>() is { Length: > 0 } name ? name : "llama");
        writer.AddUInt32("llama.context_length", (uint)config.MaxPositionEmbeddings);
        writer.AddUInt32("llama.embedding_length", (uint)config.HiddenSize);
        writer.AddUInt32("llama.block_count", (uint)config.NumHiddenLayers);
        writer.AddUInt32("llama.feed_forward_length", (uint)(layout is null ? config.IntermediateSize : layout.ExpertSizes[0][0]));
        writer.AddUInt32("llama.attention.head_count", (uint)config.NumAttentionHeads);
        writer.AddUInt32("llama.attention.head_count_kv", (uint)config.NumKeyValueHeads);
        writer.AddUInt32("llama.rope.dimension_count", (uint)config.HeadDim);
        writer.AddFloat32("llama.rope.freq_base", (float)config.RopeTheta);
        writer.AddFloat32("llama.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps);
        writer.AddUInt32("llama.vocab_size", (uint)config.VocabSize);
        if (config.RopeScaling is { } scaling)
        {
            writer.AddString("llama.rope.scaling.type", "linear");
            writer.AddFloat32("llama.rope.scaling.factor", (float)scaling.Factor);
        }

        if (layout is not null)
        {
            writer.AddUInt32("llama.expert_count", (uint)layout.ExpertCount);
            writer.AddUInt32("llama.expert_used_count", (uint)layout.TopK);
        }
    }

    internal static LlamaMoeException Unsupported(string what, string key) =>
        new(ExportErrorCodes.GgufUnsupportedModel, $"the model cannot be exported to GGUF (llama architecture): it uses {what}", key: key, advice: "Export to a safetensors format instead.");
}
