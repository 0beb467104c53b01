using System.Globalization;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Gguf;

/// <summary>
/// Imports an unquantized GGUF (architecture <c>llama</c>) to Hugging Face names. llama.cpp's converters store q/k rows in
/// the interleaved (Meta) RoPE layout that llama.cpp's rope expects, so q/k rows are permuted to the Hugging Face layout,
/// exactly as for llama2.c. An <c>output.weight</c> equal to <c>token_embd.weight</c> (or absent) gives tied embeddings.
/// </summary>
public static class GgufImporter
{
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
        var embedding = Required(byName, GgufTensorNames.Embedding, file);
        if (embedding.Dims.Length != 2)
        {
            throw Inconsistent(file, $"token_embd.weight has {embedding.Dims.Length} dimensions; a llama embedding is a 2-D [embedding_length, vocab] matrix", "token_embd.weight");
        }

        var vocab = (int)embedding.Dims[1];
        var config = new LlamaConfig
        {
            VocabSize = vocab, HiddenSize = dim, IntermediateSize = Int(file, "llama.feed_forward_length"), NumHiddenLayers = Int(file, "llama.block_count"),
            NumAttentionHeads = heads, NumKeyValueHeads = kvHeads, MaxPositionEmbeddings = Int(file, "llama.context_length"),
            RopeTheta = file.Metadata.ContainsKey("llama.rope.freq_base") ? Double(file, "llama.rope.freq_base") : 10000.0,
            RmsNormEps = Double(file, "llama.attention.layer_norm_rms_epsilon"),
            BosTokenId = TokenId(file, "tokenizer.ggml.bos_token_id", 1, vocab),
            EosTokenIds = [TokenId(file, "tokenizer.ggml.eos_token_id", 2, vocab)],
            TorchDtype = "float32",
        }.Validate(file.Path); // before HeadDim is used: a zero head count is a coded error, not a division by zero
        OptionalTokenId(file, "tokenizer.ggml.unknown_token_id", vocab);
        OptionalTokenId(file, "tokenizer.ggml.padding_token_id", vocab);
        if (file.Metadata.ContainsKey("llama.rope.dimension_count") && Int(file, "llama.rope.dimension_count") != config.HeadDim)
        {
            throw new LlamaMoeException(FormatErrorCodes.GgufMissingMetadata, "partial rotary embeddings (rope.dimension_count != head_dim) are not supported", file.Path, "llama.rope.dimension_count");
        }

        if (file.Metadata.TryGetValue("tokenizer.ggml.tokens", out var tokens) && (tokens is not object[] list || list.Length != vocab))
        {
            throw Inconsistent(file, tokens is object[] l
                ? $"the tokenizer has {l.Length} tokens but token_embd.weight has {vocab} rows; every token needs exactly one embedding row"
                : "tokenizer.ggml.tokens is not an array", "tokenizer.ggml.tokens");
        }

        if (config.NumHiddenLayers > (file.Tensors.Count - 2) / GgufTensorNames.DenseLayer.Count)
        {
            // Checked before anything is sized by block_count: a hostile 2^31-1 must not build billions of expected names.
            throw Inconsistent(file, $"llama.block_count {config.NumHiddenLayers} needs {GgufTensorNames.DenseLayer.Count} tensors per block, but the file has only {file.Tensors.Count} tensors",
                "llama.block_count");
        }

        config.EnsureFitsInMemory(file.Path); // after the block count is checked against the tensors present, before any tensor is read

        CheckShapes(file, byName, config);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var stream = File.OpenRead(file.Path);
            tensors[DenseTensorNames.Embedding] = Load(stream, embedding);
            for (var i = 0; i < config.NumHiddenLayers; i++)
            {
                foreach (var (gguf, hf) in GgufTensorNames.DenseLayer)
                {
                    var t = Load(stream, Required(byName, GgufTensorNames.Block(i, gguf), file));
                    if (gguf is GgufTensorNames.AttentionQuery or GgufTensorNames.AttentionKey)
                    {
                        var permuted = RopePermutation.InterleavedToHalves(t, gguf == GgufTensorNames.AttentionQuery ? heads : kvHeads);
                        t.Dispose();
                        t = permuted;
                    }

                    tensors[DenseTensorNames.InLayer(i, hf)] = t;
                }
            }

            tensors[DenseTensorNames.FinalNorm] = Load(stream, Required(byName, GgufTensorNames.FinalNorm, file));
            var tied = true;
            if (byName.TryGetValue(GgufTensorNames.Output, out var output))
            {
                var head = Load(stream, output);
                var embed = tensors[DenseTensorNames.Embedding];
                tied = head.shape.SequenceEqual(embed.shape) && head.bytes.SequenceEqual(embed.bytes); // bitwise equal
                if (tied)
                {
                    head.Dispose();
                }
                else
                {
                    tensors[DenseTensorNames.LmHead] = head;
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

    /// <summary>Every tensor must be one a llama model of this config uses, with exactly the shape it needs.</summary>
    private static void CheckShapes(GgufFile file, Dictionary<string, GgufTensorInfo> byName, LlamaConfig config)
    {
        long dim = config.HiddenSize, q = config.QueryWidth, kv = config.KeyValueWidth, ffn = config.IntermediateSize, vocab = config.VocabSize;
        var expected = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            [GgufTensorNames.Embedding] = [dim, vocab], [GgufTensorNames.FinalNorm] = [dim], [GgufTensorNames.Output] = [dim, vocab],
        };
        for (var i = 0; i < config.NumHiddenLayers; i++)
        {
            expected[$"blk.{i}.attn_norm.weight"] = [dim];
            expected[$"blk.{i}.attn_q.weight"] = [dim, q];
            expected[$"blk.{i}.attn_k.weight"] = [dim, kv];
            expected[$"blk.{i}.attn_v.weight"] = [dim, kv];
            expected[$"blk.{i}.attn_output.weight"] = [q, dim];
            expected[$"blk.{i}.ffn_norm.weight"] = [dim];
            expected[$"blk.{i}.ffn_gate.weight"] = [dim, ffn];
            expected[$"blk.{i}.ffn_up.weight"] = [dim, ffn];
            expected[$"blk.{i}.ffn_down.weight"] = [ffn, dim];
        }

        foreach (var tensor in file.Tensors)
        {
            if (tensor.Name == "rope_freqs.weight")
            {
                throw new LlamaMoeException(FormatErrorCodes.GgufInconsistent,
                    "the file carries rope_freqs.weight (per-frequency RoPE factors, as llama.cpp writes for Llama 3.1 scaling); importing without them would change the model and they are not supported",
                    file.Path, tensor.Name, "Import the Hugging Face checkpoint instead: its config.json carries the llama3 rope_scaling that LlamaMoe implements.");
            }

            if (!expected.TryGetValue(tensor.Name, out var shape))
            {
                throw Inconsistent(file, $"tensor '{tensor.Name}' is not part of a llama model with llama.block_count {config.NumHiddenLayers}; importing without it would change the model",
                    tensor.Name);
            }

            if (!shape.SequenceEqual(tensor.Dims))
            {
                throw Inconsistent(file, $"tensor '{tensor.Name}' has GGUF dims [{string.Join(", ", tensor.Dims)}] but the metadata implies [{string.Join(", ", shape)}]", tensor.Name);
            }
        }
    }

    private static int TokenId(GgufFile file, string key, int fallback, int vocab)
    {
        if (!file.Metadata.ContainsKey(key))
        {
            return fallback;
        }

        var id = Int(file, key);
        return id < vocab ? id : throw Inconsistent(file, $"{key} {id} is outside the vocabulary of {vocab} tokens", key);
    }

    /// <summary>An optional id (unknown, padding): llama.cpp writes -1 (as int32, or as uint32 0xFFFFFFFF) for "none".</summary>
    private static void OptionalTokenId(GgufFile file, string key, int vocab)
    {
        if (file.Metadata.TryGetValue(key, out var v) && !IsNoToken(v))
        {
            TokenId(file, key, 0, vocab);
        }
    }

    /// <summary>Whether a token-id value is llama.cpp's "none" (-1, also stored as the unsigned all-ones value).</summary>
    internal static bool IsNoToken(object value) =>
        (value is int i && i == -1) || (value is long l && l == -1) || (value is uint u && u == uint.MaxValue) || (value is ulong ul && ul == ulong.MaxValue);

    private static LlamaMoeException Inconsistent(GgufFile file, string message, string key) =>
        new(FormatErrorCodes.GgufInconsistent, "inconsistent GGUF file: " + message, file.Path, key, "The file is damaged or was converted wrongly; re-convert it with llama.cpp's convert script.");

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
