using System.Text.Json;
using System.Text.Json.Nodes;


namespace LlamaMoe.Modeling.Config;

/// <summary>
/// Reads and writes <see cref="LlamaConfig"/> as a Hugging Face <c>config.json</c>. Unknown keys are refused
/// (LMOE2003) unless they are harmless Hugging Face bookkeeping keys or listed by the caller in
/// <c>additionalAllowedKeys</c> (how an MoE config reuses this reader); either way they are kept in
/// <see cref="LlamaConfig.ExtraProperties"/>. Duplicate keys are refused (LMOE2002).
/// </summary>
public static class LlamaConfigJson
{
    /// <summary>Keys that carry no architecture meaning and are kept verbatim.</summary>
    public static IReadOnlySet<string> HarmlessKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "architectures", "transformers_version", "_name_or_path", "pretraining_tp", "use_cache", "initializer_range",
        "attention_dropout", "mlp_dropout", "output_attentions", "output_hidden_states", "return_dict", "auto_map",
        "max_sequence_length", "bad_words_ids", "is_decoder", "finetuning_task", "problem_type", "dtype",
    };

    private static readonly HashSet<string> ModeledKeys = new(StringComparer.Ordinal)
    {
        "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
        "head_dim", "max_position_embeddings", "rope_theta", "rope_scaling", "rms_norm_eps", "tie_word_embeddings",
        "attention_bias", "mlp_bias", "bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "hidden_act", "model_type",
    };

    private static readonly JsonDocumentOptions StrictDocument = new() { AllowDuplicateProperties = false, MaxDepth = 32 };

    /// <summary>Reads and validates a config file.</summary>
    /// <param name="path">The config.json path.</param>
    /// <param name="additionalAllowedKeys">Extension keys (for example MoE keys) to accept and keep in <see cref="LlamaConfig.ExtraProperties"/>.</param>
    /// <param name="allowedModelTypes">Accepted <c>model_type</c> values; defaults to <c>llama</c>.</param>
    public static LlamaConfig Read(string path, IReadOnlySet<string>? additionalAllowedKeys = null, IReadOnlySet<string>? allowedModelTypes = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LlamaMoeException(ConfigErrorCodes.Missing, "cannot read the model config: " + ex.Message, path, advice: "Point to a model directory that holds config.json.", inner: ex);
        }

        return Parse(text, path, additionalAllowedKeys, allowedModelTypes);
    }

    /// <summary>Parses and validates config JSON text.</summary>
    public static LlamaConfig Parse(string json, string? filePath = null, IReadOnlySet<string>? additionalAllowedKeys = null, IReadOnlySet<string>? allowedModelTypes = null)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: StrictDocument) as JsonObject
                ?? throw new LlamaMoeException(ConfigErrorCodes.Malformed, "config.json is not a JSON object", filePath, advice: "Write the config as one JSON object.");
        }
        catch (JsonException ex)
        {
            throw new LlamaMoeException(ConfigErrorCodes.Malformed, "config.json is not valid JSON (or has a key twice): " + ex.Message, filePath,
                line: (int)(ex.LineNumber ?? -1) + 1, column: (int)(ex.BytePositionInLine ?? -1) + 1, advice: "Fix the JSON; every key must appear once.", inner: ex);
        }

        var reader = new ConfigValueReader(root, filePath);
        var extras = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in root)
        {
            if (ModeledKeys.Contains(key))
            {
                continue;
            }

            if (!HarmlessKeys.Contains(key) && additionalAllowedKeys?.Contains(key) != true)
            {
                throw new LlamaMoeException(ConfigErrorCodes.UnknownKey, $"config.json has the unknown key '{key}'", filePath, key,
                    "Remove the key, or use a reader that understands it; unknown architecture keys are never ignored silently.");
            }

            extras[key] = value?.DeepClone();
        }

        var heads = reader.Int("num_attention_heads", 32);
        var modelType = reader.String("model_type", "llama");
        var types = allowedModelTypes ?? new HashSet<string>(StringComparer.Ordinal) { "llama" };
        if (!types.Contains(modelType))
        {
            throw new LlamaMoeException(ConfigErrorCodes.Unsupported, $"model_type '{modelType}' is not supported here", filePath, "model_type",
                "Expected " + string.Join(" or ", types) + ".");
        }

        var hiddenAct = reader.String("hidden_act", "silu");
        if (hiddenAct != "silu")
        {
            throw new LlamaMoeException(ConfigErrorCodes.Unsupported, $"hidden_act '{hiddenAct}' is not supported (LLaMA uses silu)", filePath, "hidden_act");
        }

        var config = new LlamaConfig
        {
            VocabSize = reader.Int("vocab_size", 32000),
            HiddenSize = reader.Int("hidden_size", 4096),
            IntermediateSize = reader.Int("intermediate_size", 11008),
            NumHiddenLayers = reader.Int("num_hidden_layers", 32),
            NumAttentionHeads = heads,
            NumKeyValueHeads = reader.Int("num_key_value_heads", heads),
            ExplicitHeadDim = reader.OptionalInt("head_dim"),
            MaxPositionEmbeddings = reader.Int("max_position_embeddings", 2048),
            RopeTheta = reader.Double("rope_theta", 10000.0),
            RopeScaling = reader.RopeScaling("rope_scaling"),
            RmsNormEps = reader.Double("rms_norm_eps", 1e-6),
            TieWordEmbeddings = reader.Bool("tie_word_embeddings", false),
            AttentionBias = reader.Bool("attention_bias", false),
            MlpBias = reader.Bool("mlp_bias", false),
            BosTokenId = reader.OptionalInt("bos_token_id", 1),
            EosTokenIds = reader.IntList("eos_token_id", [2]),
            PadTokenId = reader.OptionalInt("pad_token_id"),
            TorchDtype = reader.String("torch_dtype", "float32"),
            HiddenAct = hiddenAct,
            ModelType = modelType,
            ExtraProperties = extras,
        };
        if (config.TorchDtype is not ("float32" or "bfloat16" or "float16"))
        {
            throw new LlamaMoeException(ConfigErrorCodes.Unsupported, $"torch_dtype '{config.TorchDtype}' is not supported", filePath, "torch_dtype", "Use float32, bfloat16 or float16.");
        }

        return config.Validate(filePath);
    }

    /// <summary>The config as a JSON object (modelled keys first, then <see cref="LlamaConfig.ExtraProperties"/>).</summary>
    public static JsonObject ToJsonObject(LlamaConfig config)
    {
        var root = new JsonObject();
        if (config.ExtraProperties.TryGetValue("architectures", out var architectures))
        {
            root["architectures"] = architectures?.DeepClone();
        }
        else
        {
            root["architectures"] = new JsonArray("LlamaForCausalLM");
        }

        root["model_type"] = config.ModelType;
        root["vocab_size"] = config.VocabSize;
        root["hidden_size"] = config.HiddenSize;
        root["intermediate_size"] = config.IntermediateSize;
        root["num_hidden_layers"] = config.NumHiddenLayers;
        root["num_attention_heads"] = config.NumAttentionHeads;
        root["num_key_value_heads"] = config.NumKeyValueHeads;
        if (config.ExplicitHeadDim is { } headDim)
        {
            root["head_dim"] = headDim;
        }

        root["max_position_embeddings"] = config.MaxPositionEmbeddings;
        root["rope_theta"] = config.RopeTheta;
        root["rope_scaling"] = config.RopeScaling is { } s ? RopeScalingJson(s) : null;
        root["rms_norm_eps"] = config.RmsNormEps;
        root["tie_word_embeddings"] = config.TieWordEmbeddings;
        root["attention_bias"] = config.AttentionBias;
        root["mlp_bias"] = config.MlpBias;
        root["bos_token_id"] = config.BosTokenId;
        root["eos_token_id"] = config.EosTokenIds.Count == 1 ? JsonValue.Create(config.EosTokenIds[0]) : new JsonArray(config.EosTokenIds.Select(id => (JsonNode?)id).ToArray());
        if (config.PadTokenId is { } pad)
        {
            root["pad_token_id"] = pad;
        }

        root["torch_dtype"] = config.TorchDtype;
        root["hidden_act"] = config.HiddenAct;
        foreach (var (key, value) in config.ExtraProperties)
        {
            if (key != "architectures")
            {
                root[key] = value?.DeepClone();
            }
        }

        return root;
    }

    /// <summary>The config as indented JSON text.</summary>
    public static string ToJson(LlamaConfig config) =>
        ToJsonObject(config).ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Writes the config atomically.</summary>
    public static void Write(LlamaConfig config, string path) => AtomicFile.WriteAllText(path, ToJson(config) + "\n");

    private static JsonObject RopeScalingJson(RopeScaling s)
    {
        var o = new JsonObject { ["rope_type"] = s.Type, ["factor"] = s.Factor };
        if (s.LowFreqFactor is { } low)
        {
            o["low_freq_factor"] = low;
        }

        if (s.HighFreqFactor is { } high)
        {
            o["high_freq_factor"] = high;
        }

        if (s.OriginalMaxPositionEmbeddings is { } original)
        {
            o["original_max_position_embeddings"] = original;
        }

        return o;
    }

}
