namespace LlamaMoe.Modeling.Formats;

/// <summary>The stable LMOE12xx codes raised while exporting or converting between checkpoint formats.</summary>
public static class ExportErrorCodes
{
    /// <summary>GGUF writer: a duplicate/empty/over-long key or tensor name, an unsupported value, dtype or rank.</summary>
    public const string GgufWriterInvalid = "LMOE1201";

    /// <summary>GGUF export: the model uses something llama.cpp's llama architecture cannot express (partial rotary, rope scaling type, biases).</summary>
    public const string GgufUnsupportedModel = "LMOE1202";

    /// <summary>GGUF export: the tokenizer cannot be written as GGUF tokenizer metadata.</summary>
    public const string GgufTokenizerUnsupported = "LMOE1203";

    /// <summary>Mixtral-style export: the model has a residual (shared) expert.</summary>
    public const string ResidualExpertNotExportable = "LMOE1210";

    /// <summary>Mixtral-style export: the model has attention-MoE layers.</summary>
    public const string AttentionMoeNotExportable = "LMOE1211";

    /// <summary>Mixtral-style export: some layers are dense.</summary>
    public const string DenseLayersNotExportable = "LMOE1212";

    /// <summary>Mixtral-style export: the experts of a layer (or of different layers) differ in size.</summary>
    public const string UnequalExpertsNotExportable = "LMOE1213";

    /// <summary>Mixtral-style export: the router is not linear with softmax-renormalised top-k weights (or is noisy).</summary>
    public const string RouterNotExportable = "LMOE1214";

    /// <summary>An MoE config (native, Mixtral, LLaMA-MoE v1/v2) is missing a key, has a wrong type, or contradicts itself.</summary>
    public const string MoeConfigInvalid = "LMOE1220";

    /// <summary>An MoE checkpoint lacks a tensor the layout needs, has one of the wrong shape, or one the layout does not use.</summary>
    public const string MoeTensorMismatch = "LMOE1221";

    /// <summary>A LLaMA-MoE v1/v2 checkpoint uses a variant that cannot be converted (megablocks, rescale bias, contract layers, residual v1).</summary>
    public const string UnsupportedVariant = "LMOE1222";

    /// <summary>Qwen2-MoE export or import: the model has no exact Qwen2-MoE equivalent (no residual expert, head_dim, sliding window, q/k/v biases, unnormalised top-k).</summary>
    public const string QwenNotExpressible = "LMOE1223";

    /// <summary>Qwen2-MoE import: <c>shared_expert_gate</c> is not zero, so the shared expert is not the residual expert.</summary>
    public const string QwenGateNotZero = "LMOE1224";

    /// <summary>
    /// GGUF export through llama.cpp's qwen2moe architecture: the routing weights are renormalised over the top-k (k &lt; E) or
    /// unit, while qwen2moe weights the top-k experts by the softmax over all experts without renormalising.
    /// </summary>
    public const string GgufRoutingNotExpressible = "LMOE1225";

    /// <summary>Unknown export format name, or an invalid export/dump option.</summary>
    public const string UnknownFormat = "LMOE1230";
}
