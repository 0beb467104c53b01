using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// The feed-forward slot of a decoder layer: the dense SwiGLU MLP or a Mixture-of-Experts block.
/// Input and output are <c>(N, D)</c> or <c>(B, T, D)</c> hidden states (the output of <c>post_attention_layernorm</c>).
/// A routed block records the router logits of its latest forward pass, for the auxiliary losses and expert statistics.
/// </summary>
public abstract class FeedForwardBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the block with the TorchSharp module name.</summary>
    protected FeedForwardBlock(string name) : base(name)
    {
    }

    /// <summary>
    /// Router logits <c>(N, E)</c> of the latest forward pass (tokens flattened), or null for a dense block.
    /// Kept in the autograd graph so auxiliary losses can back-propagate into the router. The block owns the
    /// tensor and replaces (disposes) it on the next forward pass, unless the caller moved it to a dispose scope.
    /// </summary>
    public Tensor? LastRouterLogits { get; protected set; }

    /// <summary>Expert indices <c>(N, K)</c> selected in the latest forward pass, or null for a dense block.</summary>
    public Tensor? LastSelectedExperts { get; protected set; }

    /// <summary>Whether the latest forward pass should record <see cref="LastRouterLogits"/> (off for pure inference).</summary>
    public bool RecordRouting { get; set; }

    /// <summary>The key under which the decoder layer registers this block: <c>mlp</c> (dense) or <c>block_sparse_moe</c> (MoE).</summary>
    public abstract string StateDictName { get; }
}
