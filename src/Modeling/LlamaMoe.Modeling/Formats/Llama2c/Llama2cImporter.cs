using System.Buffers.Binary;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Formats.Llama2c;

/// <summary>
/// Imports a llama2.c legacy (version 0) checkpoint: a 7 x int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size, seq_len; a negative vocab_size means an untied classifier), float32 weights in llama2.c order, the legacy
/// freq_cis tables, then the classifier when untied. q/k rows are permuted to the Hugging Face layout.
/// </summary>
public static class Llama2cImporter
{
    /// <summary>Reads the checkpoint into a config and Hugging Face-named float32 tensors.</summary>
    public static ImportedModel Read(string path)
    {
        using var stream = File.OpenRead(path);
        var header = new byte[28];
        if (stream.Length < header.Length)
        {
            throw Invalid(path, "the file is shorter than the 28-byte header");
        }

        stream.ReadExactly(header);
        var h = new int[7];
        for (var i = 0; i < 7; i++)
        {
            h[i] = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(i * 4));
        }

        if (h[0] == 0x616b3432)
        {
            throw Invalid(path, "this is a llama2.c version 1/2 export (magic 'ak42'); only the legacy version 0 format is supported");
        }

        var (dim, hidden, layers, heads, kvHeads, vocabRaw, seqLen) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
        var tied = vocabRaw > 0;
        var vocab = Math.Abs((long)vocabRaw);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0 || seqLen <= 0 || dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
        {
            throw Invalid(path, $"implausible header dim={dim} hidden_dim={hidden} n_layers={layers} n_heads={heads} n_kv_heads={kvHeads} vocab_size={vocabRaw} seq_len={seqLen}");
        }

        var headDim = dim / heads;
        var kvDim = (long)kvHeads * headDim;

        // Int128 cannot overflow here: every factor is below 2^32, so each product is below 2^96.
        Int128 perLayer = (2 * (Int128)dim) + ((Int128)dim * dim * 2) + (2 * (Int128)kvDim * dim) + (3 * (Int128)dim * hidden);
        var floats = ((Int128)vocab * dim) + (layers * perLayer) + dim + ((Int128)seqLen * headDim) + (tied ? 0 : (Int128)vocab * dim);
        var implied = 28 + (floats * 4);
        if (implied != stream.Length)
        {
            throw Invalid(path, $"the header implies {implied} bytes but the file has {stream.Length}");
        }

        if (vocab > int.MaxValue)
        {
            throw Invalid(path, $"vocab_size {vocabRaw} is out of range");
        }

        var config = new LlamaConfig
        {
            VocabSize = (int)vocab, HiddenSize = dim, IntermediateSize = hidden, NumHiddenLayers = layers, NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads, MaxPositionEmbeddings = seqLen, RopeTheta = 10000.0, RmsNormEps = 1e-5, TieWordEmbeddings = tied,
            BosTokenId = 1, EosTokenIds = [2], TorchDtype = "float32",
        }.Validate(path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            tensors[DenseTensorNames.Embedding] = ReadFloats(stream, vocab, dim);
            ReadStack(stream, tensors, layers, "input_layernorm.weight", dim);
            ReadStack(stream, tensors, layers, "self_attn.q_proj.weight", dim, dim, heads);
            ReadStack(stream, tensors, layers, "self_attn.k_proj.weight", kvDim, dim, kvHeads);
            ReadStack(stream, tensors, layers, "self_attn.v_proj.weight", kvDim, dim);
            ReadStack(stream, tensors, layers, "self_attn.o_proj.weight", dim, dim);
            ReadStack(stream, tensors, layers, "post_attention_layernorm.weight", dim);
            ReadStack(stream, tensors, layers, "mlp.gate_proj.weight", hidden, dim);
            ReadStack(stream, tensors, layers, "mlp.down_proj.weight", dim, hidden);
            ReadStack(stream, tensors, layers, "mlp.up_proj.weight", hidden, dim);
            tensors[DenseTensorNames.FinalNorm] = ReadFloats(stream, dim);
            stream.Seek((long)seqLen * headDim * 4, SeekOrigin.Current); // legacy freq_cis_real/imag, unused
            if (!tied)
            {
                tensors[DenseTensorNames.LmHead] = ReadFloats(stream, vocab, dim);
            }

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

    private static void ReadStack(Stream stream, Dictionary<string, Tensor> tensors, int layers, string suffix, long rows, long cols = 0, long ropeHeads = 0)
    {
        for (var i = 0; i < layers; i++)
        {
            var t = cols == 0 ? ReadFloats(stream, rows) : ReadFloats(stream, rows, cols);
            if (ropeHeads > 0)
            {
                var permuted = RopePermutation.InterleavedToHalves(t, ropeHeads);
                t.Dispose();
                t = permuted;
            }

            tensors[DenseTensorNames.InLayer(i, suffix)] = t;
        }
    }

    private static Tensor ReadFloats(Stream stream, params long[] shape)
    {
        var t = torch.empty(shape, ScalarType.Float32);
        stream.ReadExactly(t.bytes);
        return t;
    }

    private static LlamaMoeException Invalid(string path, string message) =>
        new(FormatErrorCodes.Llama2cInvalid, "not a valid llama2.c checkpoint: " + message, path, advice: "Export the model with llama2.c's legacy (version 0) exporter.");
}
