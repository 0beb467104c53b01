using System.Globalization;
using LlamaMoe.Modeling.Checkpoints;
using LlamaMoe.Modeling.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Import;

/// <summary>
/// Imports an unquantized GGUF (architecture <c>llama</c>) to Hugging Face names. llama.cpp's converters store q/k rows in
/// the interleaved (Meta) RoPE layout that llama.cpp's rope expects, so q/k rows are permuted to the Hugging Face layout,
/// exactly as for llama2.c. An <c>output.weight</c> equal to <c>token_embd.weight</c> (or absent) gives tied embeddings.
/// </summary>
public static class GgufImporter
{
    private static readonly (string Gguf, string Hf)[] LayerNames =
    [
        ("attn_norm.weight", "input_layernorm.weight"), ("attn_q.weight", "self_attn.q_proj.weight"), ("attn_k.weight", "self_attn.k_proj.weight"),
        ("attn_v.weight", "self_attn.v_proj.weight"), ("attn_output.weight", "self_attn.o_proj.weight"), ("ffn_norm.weight", "post_attention_layernorm.weight"),
        ("ffn_gate.weight", "mlp.gate_proj.weight"), ("ffn_down.weight", "mlp.down_proj.weight"), ("ffn_up.weight", "mlp.up_proj.weight"),
    ];

    /// <summary>Reads the model (config + Hugging Face-named tensors).</summary>
    public static ImportedModel Read(GgufFile file)
    {
        var arch = Text(file, "general.architecture");
        if (arch != "llama")
        {
            throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"GGUF architecture '{arch}' is not supported (only llama)", file.Path, "general.architecture");
        }

        var heads = Int(file, "llama.attention.head_count");
        var kvHeads = file.Metadata.ContainsKey("llama.attention.head_count_kv") ? Int(file, "llama.attention.head_count_kv") : heads;
        var dim = Int(file, "llama.embedding_length");
        var byName = file.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var embedding = Required(byName, "token_embd.weight", file);
        var vocab = (int)embedding.Dims[1];
        var config = new LlamaConfig
        {
            VocabSize = vocab, HiddenSize = dim, IntermediateSize = Int(file, "llama.feed_forward_length"), NumHiddenLayers = Int(file, "llama.block_count"),
            NumAttentionHeads = heads, NumKeyValueHeads = kvHeads, MaxPositionEmbeddings = Int(file, "llama.context_length"),
            RopeTheta = file.Metadata.ContainsKey("llama.rope.freq_base") ? Double(file, "llama.rope.freq_base") : 10000.0,
            RmsNormEps = Double(file, "llama.attention.layer_norm_rms_epsilon"),
            BosTokenId = file.Metadata.ContainsKey("tokenizer.ggml.bos_token_id") ? Int(file, "tokenizer.ggml.bos_token_id") : 1,
            EosTokenIds = [file.Metadata.ContainsKey("tokenizer.ggml.eos_token_id") ? Int(file, "tokenizer.ggml.eos_token_id") : 2],
            TorchDtype = "float32",
        };
        config.Validate(file.Path).EnsureFitsInMemory(file.Path); // before HeadDim is used and before any tensor is read
        if (file.Metadata.ContainsKey("llama.rope.dimension_count") && Int(file, "llama.rope.dimension_count") != config.HeadDim)
        {
            throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, "partial rotary embeddings (rope.dimension_count != head_dim) are not supported", file.Path, "llama.rope.dimension_count");
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var stream = File.OpenRead(file.Path);
            tensors["model.embed_tokens.weight"] = Load(stream, embedding);
            for (var i = 0; i < config.NumHiddenLayers; i++)
            {
                foreach (var (gguf, hf) in LayerNames)
                {
                    var t = Load(stream, Required(byName, $"blk.{i}.{gguf}", file));
                    if (gguf is "attn_q.weight" or "attn_k.weight")
                    {
                        var permuted = RopePermutation.InterleavedToHalves(t, gguf == "attn_q.weight" ? heads : kvHeads);
                        t.Dispose();
                        t = permuted;
                    }

                    tensors[$"model.layers.{i}.{hf}"] = t;
                }
            }

            tensors["model.norm.weight"] = Load(stream, Required(byName, "output_norm.weight", file));
            var tied = true;
            if (byName.TryGetValue("output.weight", out var output))
            {
                var head = Load(stream, output);
                var embed = tensors["model.embed_tokens.weight"];
                tied = head.shape.SequenceEqual(embed.shape) && head.bytes.SequenceEqual(embed.bytes); // bitwise equal
                if (tied)
                {
                    head.Dispose();
                }
                else
                {
                    tensors["lm_head.weight"] = head;
                }
            }

            config = (config with { TieWordEmbeddings = tied }).Validate(file.Path);
            return new ImportedModel(config, ImportedModel.InHfOrder(tensors, config));
        }
        catch
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }

            throw;
        }
    }

    private static Tensor Load(FileStream stream, GgufTensorInfo info)
    {
        var type = info.Type switch { 0 => ScalarType.Float32, 1 => ScalarType.Float16, _ => ScalarType.BFloat16 };
        var shape = info.Dims.Reverse().ToArray(); // GGUF ne[0] is the innermost (column) dimension
        var t = torch.empty(shape, type);
        stream.Position = info.Offset;
        stream.ReadExactly(t.bytes);
        if (type == ScalarType.Float32)
        {
            return t;
        }

        var f32 = t.to_type(ScalarType.Float32);
        t.Dispose();
        return f32;
    }

    private static GgufTensorInfo Required(Dictionary<string, GgufTensorInfo> byName, string name, GgufFile file) =>
        byName.TryGetValue(name, out var info) ? info
            : throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"the GGUF file has no tensor '{name}'", file.Path, name);

    internal static string Text(GgufFile file, string key) =>
        file.Metadata.TryGetValue(key, out var v) && v is string s ? s
            : throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"metadata key '{key}' is missing or not a string", file.Path, key);

    internal static int Int(GgufFile file, string key)
    {
        if (file.Metadata.TryGetValue(key, out var v) && v is byte or sbyte or ushort or short or uint or int or ulong or long)
        {
            var value = Convert.ToDecimal(v, CultureInfo.InvariantCulture);
            if (value is >= 0 and <= int.MaxValue)
            {
                return (int)value;
            }
        }

        throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"metadata key '{key}' is missing or not a non-negative integer", file.Path, key);
    }

    private static double Double(GgufFile file, string key) =>
        file.Metadata.TryGetValue(key, out var v) && v is float or double ? Convert.ToDouble(v, CultureInfo.InvariantCulture)
            : throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, $"metadata key '{key}' is missing or not a number", file.Path, key);
}
