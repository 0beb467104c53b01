using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Tensors;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// What the GGUF exporters (llama.cpp's <c>llama</c> and <c>qwen2moe</c> architectures) share: the attention checks, the
/// hyper-parameters under <c>{arch}.</c>, the attention and norm tensors of a layer, and routed experts stacked per
/// projection. Tensors are declared as <see cref="StreamedTensor"/>s looked up by Hugging Face/native name and produced
/// only when the <see cref="GgufWriter"/> writes them.
/// </summary>
internal static class GgufModelTensors
{
    /// <summary>Throws LMOE1202 when llama.cpp's <paramref name="arch"/> cannot express the attention of <paramref name="config"/>.</summary>
    public static void RequireExpressibleAttention(LlamaConfig config, string arch)
    {
        if (config.MlpBias || config.AttentionBias || config.ExplicitHeadDim is { } hd && hd * config.NumAttentionHeads != config.HiddenSize)
        {
            throw Unsupported(arch, "biases or a head_dim other than hidden_size / num_attention_heads", config.MlpBias || config.AttentionBias ? "attention_bias" : "head_dim");
        }

        if (config.RopeScaling is { } scaling && scaling.Type != "linear")
        {
            throw Unsupported(arch, $"rope_scaling type '{scaling.Type}' (only linear is exported)", "rope_scaling");
        }
    }

    /// <summary>Adds <c>general.architecture</c>, <c>general.name</c> and the <c>{arch}.*</c> keys every exported architecture has.</summary>
    public static void AddHyperParameters(GgufWriter writer, string arch, LlamaConfig config, int feedForwardLength)
    {
        writer.AddString("general.architecture", arch);
        writer.AddString("general.name", config.ExtraProperties.TryGetValue("_name_or_path", out var n) && n?.GetValue<string>() is { Length: > 0 } name ? name : arch);
        writer.AddUInt32($"{arch}.context_length", (uint)config.MaxPositionEmbeddings);
        writer.AddUInt32($"{arch}.embedding_length", (uint)config.HiddenSize);
        writer.AddUInt32($"{arch}.block_count", (uint)config.NumHiddenLayers);
        writer.AddUInt32($"{arch}.feed_forward_length", (uint)feedForwardLength);
        writer.AddUInt32($"{arch}.attention.head_count", (uint)config.NumAttentionHeads);
        writer.AddUInt32($"{arch}.attention.head_count_kv", (uint)config.NumKeyValueHeads);
        writer.AddUInt32($"{arch}.rope.dimension_count", (uint)config.HeadDim);
        writer.AddFloat32($"{arch}.rope.freq_base", (float)config.RopeTheta);
        writer.AddFloat32($"{arch}.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps);
        writer.AddUInt32($"{arch}.vocab_size", (uint)config.VocabSize);
        if (config.RopeScaling is { } scaling)
        {
            writer.AddString($"{arch}.rope.scaling.type", "linear");
            writer.AddFloat32($"{arch}.rope.scaling.factor", (float)scaling.Factor);
        }
    }

    /// <summary>
    /// Adds layer <paramref name="layer"/>'s norms (always F32) and attention projections. <paramref name="interleaveRope"/>
    /// permutes q/k rows to the interleaved pairs of llama.cpp's "normal" rope (llama); NEOX-rope architectures (qwen2moe)
    /// rotate halves like Hugging Face and take the rows as they are.
    /// </summary>
    public static void AddAttentionAndNorms(GgufWriter writer, Func<string, StreamedTensor> lookup, LlamaConfig config, int layer, GgufTensorType type, bool interleaveRope)
    {
        foreach (var (gguf, hf) in GgufTensorNames.AttentionAndNorms)
        {
            var source = lookup(DenseTensorNames.InLayer(layer, hf));
            var heads = hf switch
            {
                "self_attn.q_proj.weight" when interleaveRope => config.NumAttentionHeads,
                "self_attn.k_proj.weight" when interleaveRope => config.NumKeyValueHeads,
                _ => 0,
            };
            var tensor = heads == 0 ? source : source with { Produce = () => Interleaved(source, heads) };
            writer.AddTensor(tensor with { Name = GgufTensorNames.Block(layer, gguf) }, tensor.Shape.Length == 1 ? GgufTensorType.F32 : type);
        }
    }

    /// <summary>
    /// Adds layer <paramref name="layer"/>'s router <c>ffn_gate_inp</c> (F32, (E, H)) and its routed experts stacked per
    /// projection into <c>ffn_{gate,up,down}_exps</c>, (E, m, H) for gate/up and (E, H, m) for down with the layer's scale
    /// folded into down.
    /// </summary>
    public static void AddRoutedExperts(GgufWriter writer, Func<string, StreamedTensor> lookup, MoeConfig layout, int layer, GgufTensorType type)
    {
        var scale = layout.ScaleFactors[layout.IndexOfMoeLayer(layer)];
        writer.AddTensor(lookup(MoeTensorNames.Router(layer)) with { Name = GgufTensorNames.Block(layer, GgufTensorNames.Router) }, GgufTensorType.F32); // (E, H)
        foreach (var (gguf, w) in GgufTensorNames.StackedExperts)
        {
            writer.AddTensor(StackedExperts(GgufTensorNames.Block(layer, gguf), lookup, layer, layout.ExpertCount, w, w == "w2" ? scale : 1.0), type);
        }
    }

    /// <summary>
    /// One projection of a layer's routed experts stacked into one tensor, torch (E, m, H) for w1/w3 and (E, H, m) for w2,
    /// times <paramref name="factor"/>; produced by copying one expert at a time into the stacked tensor.
    /// </summary>
    public static StreamedTensor StackedExperts(string name, Func<string, StreamedTensor> lookup, int layer, int experts, string w, double factor)
    {
        var parts = Enumerable.Range(0, experts).Select(j => lookup(MoeTensorNames.Expert(layer, j, w))).ToArray();
        var first = parts[0];
        if (parts.Any(p => !p.Shape.SequenceEqual(first.Shape)))
        {
            throw MoeCheckpoint.Mismatch(first.Name, "differs in shape from another expert of its layer");
        }

        long[] shape = [experts, .. first.Shape];
        return new StreamedTensor(name, first.Dtype, shape, () =>
        {
            var stacked = empty(shape, first.Dtype); // (E, rows, cols)
            using var scope = NewDisposeScope();
            for (var j = 0; j < experts; j++)
            {
                stacked[j].copy_(CheckpointTensors.Scaled(parts[j].Produce(), factor)); // (rows, cols)
                scope.DisposeEverything();
            }

            return stacked;
        });
    }

    /// <summary>LMOE1202 for a model that llama.cpp's <paramref name="arch"/> cannot express.</summary>
    public static LlamaMoeException Unsupported(string arch, string what, string key) =>
        new(ExportErrorCodes.GgufUnsupportedModel, $"the model cannot be exported to GGUF ({arch} architecture): it uses {what}", key: key, advice: "Export to a safetensors format instead.");

    private static Tensor Interleaved(StreamedTensor source, int heads)
    {
        using var scope = NewDisposeScope();
        return RopePermutation.HalvesToInterleaved(source.Produce(), heads).MoveToOuterDisposeScope();
    }
}
