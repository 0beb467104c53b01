using LlamaMoe.Modeling.Llama;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Training;

/// <summary>Test-only MoE block: a softmax router over small SwiGLU experts, top-k with renormalised weights.</summary>
public sealed class TinyMoeBlock : FeedForwardBlock
{
    private readonly Linear gate;
    private readonly ModuleList<TinySwiGlu> experts;
    private readonly int topK;

    public TinyMoeBlock(int dim, int hidden, int expertCount, int topK, double routerSkew = 0) : base("block_sparse_moe")
    {
        this.topK = topK;
        gate = nn.Linear(dim, expertCount, hasBias: routerSkew != 0);
        if (routerSkew != 0)
        {
            using var noGrad = no_grad();
            gate.bias!.zero_();
            gate.bias[0] = routerSkew;
        }

        experts = new ModuleList<TinySwiGlu>(Enumerable.Range(0, expertCount).Select(_ => new TinySwiGlu(dim, hidden)).ToArray());
        RegisterComponents();
    }

    public override string StateDictName => "block_sparse_moe";

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var shape = input.shape;
        var x = input.reshape(-1, shape[^1]); // (N, D)
        var logits = gate.forward(x); // (N, E)
        var probabilities = logits.to_type(ScalarType.Float32).softmax(-1); // (N, E)
        var (weights, selected) = probabilities.topk(topK, dim: -1); // (N, K)
        weights = (weights / weights.sum(-1, keepdim: true)).to_type(x.dtype); // (N, K)
        var output = zeros_like(x); // (N, D)
        for (var e = 0; e < experts.Count; e++)
        {
            var hit = (selected == e).nonzero(); // (M, 2): token, slot
            if (hit.shape[0] == 0)
            {
                continue;
            }

            var tokens = hit[.., 0]; // (M)
            var slotWeights = weights[tokens, hit[.., 1]].unsqueeze(1); // (M, 1)
            output = output.index_add(0, tokens, experts[e].forward(x.index_select(0, tokens)) * slotWeights, 1.0); // (N, D)
        }

        LastRouterLogits?.Dispose();
        LastSelectedExperts?.Dispose();
        LastRouterLogits = RecordRouting ? logits.DetachFromDisposeScope() : null;
        LastSelectedExperts = RecordRouting ? selected.DetachFromDisposeScope() : null;

        return output.reshape(shape).MoveToOuterDisposeScope();
    }
}

/// <summary>Test-only SwiGLU expert.</summary>
public sealed class TinySwiGlu : nn.Module<Tensor, Tensor>
{
    private readonly Linear w1;
    private readonly Linear w2;
    private readonly Linear w3;

    public TinySwiGlu(int dim, int hidden) : base("expert")
    {
        w1 = nn.Linear(dim, hidden, hasBias: false);
        w2 = nn.Linear(hidden, dim, hasBias: false);
        w3 = nn.Linear(dim, hidden, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => w2.forward(nn.functional.silu(w1.forward(x)) * w3.forward(x));
}

/// <summary>
/// Test-only causal LM: token + learned position embedding, one masked self-attention, an RMS-normalised MoE
/// feed-forward block, and an output head. Small enough for CPU tests (dim ≤ 64).
/// </summary>
public sealed class TinyMoeLanguageModel : nn.Module<Tensor, Tensor>, ICausalLanguageModel
{
    private readonly Embedding embed_tokens;
    private readonly Embedding embed_positions;
    private readonly TinyAttention self_attn;
    private readonly Parameter post_attention_norm;
    private readonly TinyMoeBlock block_sparse_moe;
    private readonly Linear lm_head;

    public TinyMoeLanguageModel(int vocabulary = 32, int dim = 32, int hidden = 32, int experts = 4, int topK = 2, int maxPositions = 64, long seed = 7, double routerSkew = 0)
        : base("tiny_moe")
    {
        manual_seed(seed);
        embed_tokens = nn.Embedding(vocabulary, dim);
        embed_positions = nn.Embedding(maxPositions, dim);
        self_attn = new TinyAttention(dim);
        post_attention_norm = new Parameter(ones(dim));
        block_sparse_moe = new TinyMoeBlock(dim, hidden, experts, topK, routerSkew);
        lm_head = nn.Linear(dim, vocabulary, hasBias: false);
        RegisterComponents();
    }

    public TinyMoeBlock Moe => block_sparse_moe;

    public nn.Module Module => this;

    public IReadOnlyList<FeedForwardBlock> FeedForwardBlocks => [block_sparse_moe];

    public Device Device => embed_tokens.weight!.device;

    public Tensor Forward(Tensor inputIds, Tensor? positionIds, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        var t = inputIds.shape[1];
        var positions = positionIds ?? arange(t, device: inputIds.device).unsqueeze(0).expand(inputIds.shape[0], t); // (B, T)
        var h = embed_tokens.forward(inputIds) + embed_positions.forward(positions); // (B, T, D)
        h = h + self_attn.Forward(h, attentionMask); // (B, T, D)
        var normed = h * rsqrt(h.pow(2).mean([-1], keepdim: true) + 1e-5) * post_attention_norm; // (B, T, D)
        h = h + block_sparse_moe.forward(normed); // (B, T, D)
        return lm_head.forward(h).MoveToOuterDisposeScope(); // (B, T, V)
    }

    public override Tensor forward(Tensor inputIds) => Forward(inputIds, null, null);
}

/// <summary>Test-only single-head self-attention with an optional bool mask (B, 1, T, T).</summary>
public sealed class TinyAttention : nn.Module
{
    private readonly Linear qkv;
    private readonly Linear o_proj;

    public TinyAttention(int dim) : base("self_attn")
    {
        qkv = nn.Linear(dim, 3 * dim, hasBias: false);
        o_proj = nn.Linear(dim, dim, hasBias: true);
        RegisterComponents();
    }

    public Tensor Forward(Tensor h, Tensor? attentionMask)
    {
        var qkvOut = qkv.forward(h).chunk(3, -1); // 3 × (B, T, D)
        var (q, k, v) = (qkvOut[0].unsqueeze(1), qkvOut[1].unsqueeze(1), qkvOut[2].unsqueeze(1)); // (B, 1, T, D) each
        var attended = attentionMask is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true) // (B, 1, T, D)
            : nn.functional.scaled_dot_product_attention(q, k, v, attentionMask); // (B, 1, T, D)
        return o_proj.forward(attended.squeeze(1)); // (B, T, D)
    }
}
