using System.Text.Json.Nodes;

namespace LlamaMoe.Modeling.Config;

/// <summary>
/// The architecture of a dense LLaMA (1/2/3/3.1/3.2) model, as in a Hugging Face <c>config.json</c>.
/// Read and written by <see cref="LlamaConfigJson"/>. Keys this record does not model (harmless Hugging Face keys,
/// or the keys an extension such as an MoE config declares) are kept verbatim in <see cref="ExtraProperties"/>
/// so they round-trip.
/// </summary>
public sealed record LlamaConfig
{
    /// <summary>Vocabulary size (rows of <c>embed_tokens</c>).</summary>
    public int VocabSize { get; init; } = 32000;

    /// <summary>Model width D.</summary>
    public int HiddenSize { get; init; } = 4096;

    /// <summary>SwiGLU hidden width.</summary>
    public int IntermediateSize { get; init; } = 11008;

    /// <summary>Number of decoder layers.</summary>
    public int NumHiddenLayers { get; init; } = 32;

    /// <summary>Number of query heads.</summary>
    public int NumAttentionHeads { get; init; } = 32;

    /// <summary>Number of key/value heads (grouped-query attention); defaults to <see cref="NumAttentionHeads"/>.</summary>
    public int NumKeyValueHeads { get; init; } = 32;

    /// <summary>Explicit <c>head_dim</c>, or null for <c>hidden_size / num_attention_heads</c>.</summary>
    public int? ExplicitHeadDim { get; init; }

    /// <summary>Per-head width.</summary>
    public int HeadDim => ExplicitHeadDim ?? HiddenSize / NumAttentionHeads;

    /// <summary>Longest supported position.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;

    /// <summary>RoPE base frequency.</summary>
    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Optional RoPE scaling.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>RMSNorm epsilon.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary>Whether <c>lm_head</c> shares the embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Whether q/k/v/o projections carry biases.</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Whether the MLP projections carry biases.</summary>
    public bool MlpBias { get; init; }

    /// <summary>Beginning-of-sequence token id, if any.</summary>
    public int? BosTokenId { get; init; } = 1;

    /// <summary>End-of-sequence token ids (Llama 3 configs list several); empty when none.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [2];

    /// <summary>Padding token id, if any.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Storage dtype name (<c>float32</c>, <c>bfloat16</c>, <c>float16</c>).</summary>
    public string TorchDtype { get; init; } = "float32";

    /// <summary>MLP activation; only <c>silu</c> is supported by the dense model.</summary>
    public string HiddenAct { get; init; } = "silu";

    /// <summary>The <c>model_type</c> key (<c>llama</c> for dense models).</summary>
    public string ModelType { get; init; } = "llama";

    /// <summary>Keys kept verbatim (harmless Hugging Face keys, extension keys), in file order.</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraProperties { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>Total query width (<c>heads * head_dim</c>).</summary>
    public int QueryWidth => NumAttentionHeads * HeadDim;

    /// <summary>Total key/value width (<c>kv_heads * head_dim</c>).</summary>
    public int KeyValueWidth => NumKeyValueHeads * HeadDim;

    /// <summary>
    /// Checks the values against each other; throws <see cref="LlamaMoeException"/> LMOE2004/LMOE2005 when
    /// they are out of range or contradict each other.
    /// </summary>
    /// <param name="filePath">The config file, for the error location.</param>
    public LlamaConfig Validate(string? filePath = null)
    {
        Positive(VocabSize, "vocab_size", filePath);
        Positive(HiddenSize, "hidden_size", filePath);
        Positive(IntermediateSize, "intermediate_size", filePath);
        Positive(NumHiddenLayers, "num_hidden_layers", filePath);
        Positive(NumAttentionHeads, "num_attention_heads", filePath);
        Positive(NumKeyValueHeads, "num_key_value_heads", filePath);
        Positive(MaxPositionEmbeddings, "max_position_embeddings", filePath);
        if (ExplicitHeadDim is { } headDim)
        {
            Positive(headDim, "head_dim", filePath);
        }
        else if (HiddenSize % NumAttentionHeads != 0)
        {
            throw Contradiction($"hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads} and no head_dim is given", "hidden_size", filePath);
        }

        if (HeadDim % 2 != 0)
        {
            throw Contradiction($"head_dim {HeadDim} is odd; rotary embeddings need an even head width", "head_dim", filePath);
        }

        if (NumAttentionHeads % NumKeyValueHeads != 0)
        {
            throw Contradiction($"num_key_value_heads {NumKeyValueHeads} does not divide num_attention_heads {NumAttentionHeads}", "num_key_value_heads", filePath);
        }

        if (!(RopeTheta > 0) || double.IsInfinity(RopeTheta))
        {
            throw Invalid("rope_theta must be a positive finite number", "rope_theta", filePath);
        }

        if (!(RmsNormEps > 0) || RmsNormEps >= 1)
        {
            throw Invalid("rms_norm_eps must be in (0, 1)", "rms_norm_eps", filePath);
        }

        foreach (var (name, id) in new[] { ("bos_token_id", BosTokenId), ("pad_token_id", PadTokenId) })
        {
            if (id is { } value && (value < 0 || value >= VocabSize))
            {
                throw Contradiction($"{name} {value} is outside the vocabulary (vocab_size {VocabSize})", name, filePath);
            }
        }

        if (EosTokenIds.Any(id => id < 0 || id >= VocabSize))
        {
            throw Contradiction($"an eos_token_id is outside the vocabulary (vocab_size {VocabSize})", "eos_token_id", filePath);
        }

        ValidateRopeScaling(filePath);
        return this;
    }

    private void ValidateRopeScaling(string? filePath)
    {
        if (RopeScaling is not { } scaling)
        {
            return;
        }

        if (!(scaling.Factor > 0))
        {
            throw Invalid("rope_scaling.factor must be positive", "rope_scaling.factor", filePath);
        }

        if (scaling.Type == RopeScaling.Llama3)
        {
            if (scaling.LowFreqFactor is not { } low || scaling.HighFreqFactor is not { } high || scaling.OriginalMaxPositionEmbeddings is not { } original)
            {
                throw Invalid("llama3 rope_scaling needs low_freq_factor, high_freq_factor and original_max_position_embeddings", "rope_scaling", filePath);
            }

            if (!(low > 0) || !(high > low) || original <= 0)
            {
                throw Contradiction("llama3 rope_scaling needs 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0", "rope_scaling", filePath);
            }
        }
    }

    /// <summary>LMOE0906: the model described by a config needs more memory than the machine has available.</summary>
    public const string TooLargeForMemoryCode = "LMOE0906";

    /// <summary>
    /// The parameter count of a dense model of this shape (embeddings, attention, MLP, norms and an untied head), computed in
    /// floating point so absurd sizes cannot overflow. Call after <see cref="Validate"/>.
    /// </summary>
    public double EstimatedParameterCount()
    {
        double hidden = HiddenSize;
        var perLayer = hidden * ((double)NumAttentionHeads * HeadDim + 2.0 * NumKeyValueHeads * HeadDim) + (double)NumAttentionHeads * HeadDim * hidden
            + 3.0 * hidden * IntermediateSize + 2.0 * hidden;
        return (double)VocabSize * hidden * (TieWordEmbeddings ? 1 : 2) + NumHiddenLayers * perLayer + hidden;
    }

    /// <summary>
    /// Refuses (LMOE0906) a config whose parameters, at <paramref name="bytesPerParameter"/> bytes each, would not fit in the
    /// memory available to this process (<see cref="GC.GetGCMemoryInfo()"/>), before anything is allocated.
    /// </summary>
    /// <param name="filePath">The config file, for the error location.</param>
    /// <param name="bytesPerParameter">Bytes per parameter while the model is built (4: float32).</param>
    public LlamaConfig EnsureFitsInMemory(string? filePath = null, int bytesPerParameter = 4)
    {
        var needed = EstimatedParameterCount() * bytesPerParameter;
        var available = (double)GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && needed > available)
        {
            throw new LlamaMoeException(TooLargeForMemoryCode,
                $"the model needs about {needed / (1L << 30):N1} GiB for its parameters ({EstimatedParameterCount():N0} at {bytesPerParameter} bytes), more than the {available / (1L << 30):N1} GiB of memory available; " +
                $"vocab_size {VocabSize}, hidden_size {HiddenSize}, intermediate_size {IntermediateSize}, num_hidden_layers {NumHiddenLayers}",
                filePath, "vocab_size/hidden_size/intermediate_size/num_hidden_layers",
                "Check those values in config.json (a typo can make them absurd), or run on a machine with more memory.");
        }

        return this;
    }

    private static void Positive(int value, string key, string? filePath)
    {
        if (value <= 0)
        {
            throw Invalid($"{key} must be a positive integer, got {value}", key, filePath);
        }
    }

    private static LlamaMoeException Invalid(string message, string key, string? filePath) =>
        new(ConfigErrorCodes.InvalidValue, message, filePath, key, "Fix the value in config.json.");

    private static LlamaMoeException Contradiction(string message, string key, string? filePath) =>
        new(ConfigErrorCodes.Contradiction, message, filePath, key, "Make the architecture keys of config.json consistent with each other.");
}
