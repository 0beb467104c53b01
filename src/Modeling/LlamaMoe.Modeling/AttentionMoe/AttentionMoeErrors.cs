namespace LlamaMoe.Modeling.AttentionMoe;

/// <summary>The stable LMOE23xx codes of attention-MoE options, construction and loading.</summary>
public static class AttentionMoeErrors
{
    /// <summary>An attention-MoE option is out of range (experts, top-k, scale factor, split, layer indices).</summary>
    public const string InvalidOptions = "LMOE2301";

    /// <summary>The options do not fit the dense model (experts ≠ kv_heads·split, split not dividing the query heads per group).</summary>
    public const string DoesNotFitModel = "LMOE2302";

    /// <summary>The <c>attention_moe</c> config object is malformed (not an object, unknown or missing key, wrong type).</summary>
    public const string MalformedConfig = "LMOE2303";

    /// <summary>Dense attention weights or the expert partition do not fit the attention-MoE block being filled.</summary>
    public const string WeightsDoNotFit = "LMOE2304";

    /// <summary>The attention-MoE command-line options contradict each other or are incomplete.</summary>
    public const string BadCommandLine = "LMOE2305";

    /// <summary>A v2 (Mixtral custom-code) config or key cannot be mapped to the native attention-MoE layout.</summary>
    public const string V2Mapping = "LMOE2306";

    /// <summary>The per-expert KV cache was reused with another batch size.</summary>
    public const string CacheMismatch = "LMOE2307";

    internal static LlamaMoeException Create(string code, string message, string key, string advice, string? filePath = null) =>
        new(code, message, filePath: filePath, key: key, advice: advice);
}
