using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>
/// Connects attention-MoE to the native MoE model loader: <see cref="AttentionFactory"/> turns a native config's
/// <c>attention_moe</c> object into the per-layer attention factory, and <see cref="Register"/> installs it as
/// <see cref="MoeModelFactory.AttentionFactoryProvider"/> (call once at start-up).
/// </summary>
public static class AttentionMoeModelSupport
{
    /// <summary>
    /// The attention factory of <paramref name="config"/> (attention-MoE blocks in its layers, dense attention elsewhere),
    /// or null when it has no attention-MoE. The options are validated against the dense config (LMOE2301–LMOE2303).
    /// </summary>
    public static Func<int, LlamaConfig, AttentionBlock>? AttentionFactory(MoeConfig config)
    {
        var options = AttentionMoeOptionsJson.Read(config.AttentionMoe)?.Validate(config.Dense);
        return options is null ? null : AttentionMoeConversion.Factories(options).Attention;
    }

    /// <summary>Installs <see cref="AttentionFactory"/> as <see cref="MoeModelFactory.AttentionFactoryProvider"/>.</summary>
    public static void Register() => MoeModelFactory.AttentionFactoryProvider = AttentionFactory;
}
