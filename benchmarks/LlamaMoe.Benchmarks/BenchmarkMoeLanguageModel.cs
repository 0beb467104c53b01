using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks;

/// <summary>
/// A small pre-norm transformer with <see cref="SparseMoeBlock"/> feed-forward layers, standing in for the LLaMA MoE
/// model in the training-throughput benchmark (multi-head causal attention, RMS norms, untied output head).
/// </summary>
public sealed class BenchmarkMoeLanguageModel : nn.Module<Tensor, Tensor>, ICausalLanguageModel
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<BenchmarkDecoderLayer> layers;
    private readonly Linear lm_head;

    /// <summary>Creates the model.</summary>
    public BenchmarkMoeLanguageModel(int vocabulary, int hidden, int layerCount, int heads, int experts, int expertSize, int topK)
        : base("benchmark_moe")
    {
        embed_tokens = nn.Embedding(vocabulary, hidden);
        layers = new ModuleList<BenchmarkDecoderLayer>(Enumerable.Range(0, layerCount)
            .Select(_ => new BenchmarkDecoderLayer(hidden, heads, SparseMoeBlockOptions.Uniform(hidden, experts, expertSize, topK, (double)experts / topK))).ToArray());
        lm_head = nn.Linear(hidden, vocabulary, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public nn.Module Module => this;

    /// <inheritdoc />
    public IReadOnlyList<FeedForwardBlock> FeedForwardBlocks => layers.Select(l => (FeedForwardBlock)l.Moe).ToList();

    /// <inheritdoc />
    public Device Device => embed_tokens.weight!.device;

    /// <summary>Parameters used per token: everything but the embedding table, with routed experts counted k/E.</summary>
    public long ActiveParameters(int experts, int topK)
    {
        var total = 0L;
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.StartsWith("embed_tokens", StringComparison.Ordinal))
            {
                continue;
            }

            total += name.Contains(".experts.", StringComparison.Ordinal) ? parameter.numel() * topK / experts : parameter.numel();
        }

        return total;
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor inputIds, Tensor? positionIds, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        var h = embed_tokens.forward(inputIds); // (B, T, D)
        foreach (var layer in layers)
        {
            h = layer.Forward(h, attentionMask); // (B, T, D)
        }

        return lm_head.forward(h).MoveToOuterDisposeScope(); // (B, T, V)
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor inputIds) => Forward(inputIds, null, null);
}

/// <summary>One decoder layer of the benchmark model.</summary>
public sealed class BenchmarkDecoderLayer : nn.Module
{
    private readonly int heads;
    private readonly Linear qkv_proj;
    private readonly Linear o_proj;
    private readonly Parameter input_layernorm;
    private readonly Parameter post_attention_layernorm;
    private readonly SparseMoeBlock block_sparse_moe;

    /// <summary>Creates the layer.</summary>
    public BenchmarkDecoderLayer(int hidden, int heads, SparseMoeBlockOptions moe) : base("layer")
    {
        this.heads = heads;
        qkv_proj = nn.Linear(hidden, 3 * hidden, hasBias: false);
        o_proj = nn.Linear(hidden, hidden, hasBias: false);
        input_layernorm = new Parameter(ones(hidden));
        post_attention_layernorm = new Parameter(ones(hidden));
        block_sparse_moe = new SparseMoeBlock(moe);
        RegisterComponents();
    }

    /// <summary>The MoE feed-forward block.</summary>
    public SparseMoeBlock Moe => block_sparse_moe;

    /// <summary>Pre-norm attention then pre-norm MoE, both residual.</summary>
    public Tensor Forward(Tensor h, Tensor? attentionMask)
    {
        var (b, t, d) = (h.shape[0], h.shape[1], h.shape[2]);
        var qkv = qkv_proj.forward(RmsNorm(h, input_layernorm)).view(b, t, 3, heads, d / heads).permute(2, 0, 3, 1, 4); // (3, B, h, T, d/h)
        var attended = attentionMask is null
            ? nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: true) // (B, h, T, d/h)
            : nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attentionMask); // (B, h, T, d/h)
        h = h + o_proj.forward(attended.transpose(1, 2).reshape(b, t, d)); // (B, T, D)
        return h + block_sparse_moe.forward(RmsNorm(h, post_attention_layernorm)); // (B, T, D)
    }

    private static Tensor RmsNorm(Tensor x, Tensor weight) =>
        x * rsqrt(x.pow(2).mean([-1], keepdim: true) + 1e-5) * weight; // (B, T, D)
}
