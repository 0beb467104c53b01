namespace LlamaMoe.Plugins.Export;

/// <summary>The formats the <c>export</c> step writes (YAML names: native, mixtral, llama-moe-v2, qwen2-moe, gguf).</summary>
public enum ExportFormat
{
    /// <summary>LlamaMoe's own safetensors layout (<c>model_type: llamamoe</c>); holds every MoE variant. Written to <c>native/</c>.</summary>
    Native,

    /// <summary>Hugging Face Mixtral (<c>MixtralForCausalLM</c>); equal experts, linear softmax router, no residual expert. Written to <c>mixtral/</c>.</summary>
    Mixtral,

    /// <summary>The LLaMA-MoE v2 release layout (Mixtral plus residual expert and attention-MoE). Written to <c>llama-moe-v2/</c>.</summary>
    LlamaMoeV2,

    /// <summary>Hugging Face Qwen2-MoE (<c>Qwen2MoeForCausalLM</c>) for the residual variant (shared expert, gate zeroed). Written to <c>qwen2-moe/</c>.</summary>
    Qwen2Moe,

    /// <summary>GGUF for llama.cpp's llama architecture (dense, or Mixtral-compatible MoE). Written to <c>model.gguf</c>.</summary>
    Gguf,
}
