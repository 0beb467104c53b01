using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Formats.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>
/// A re-implementation, written from transformers' <c>modeling_qwen2_moe.py</c> semantics and independent of our model code,
/// of the stock <c>Qwen2MoeForCausalLM</c> forward in float32: RMSNorm, rotate-half rope, GQA causal attention, sparse
/// block = Σ renormalised top-k softmax weights · experts + σ(shared_expert_gate) · shared_expert, dense <c>mlp_only_layers</c>.
/// </summary>
internal static class StockQwen2MoeForward
{
    public static float[,] Logits(string directory, IReadOnlyList<int> ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!.AsObject();
        int I(string key) => config[key]!.GetValue<int>();
        double D(string key) => config[key]!.GetValue<double>();
        using var checkpoint = ShardedCheckpoint.Open(directory);
        Tensor W(string name) => checkpoint.Read(name).to_type(ScalarType.Float32);
        var (hidden, heads, kvHeads, layers) = (I("hidden_size"), I("num_attention_heads"), I("num_key_value_heads"), I("num_hidden_layers"));
        var (headDim, eps, topK, experts) = (hidden / heads, D("rms_norm_eps"), I("num_experts_per_tok"), I("num_experts"));
        var denseLayers = config["mlp_only_layers"]!.AsArray().Select(n => n!.GetValue<int>()).ToHashSet();
        var length = ids.Count;

        Tensor Norm(Tensor x, string weight) => x.mul(x.pow(2).mean([-1], keepdim: true).add(eps).rsqrt()).mul(W(weight)); // (T, H)
        Tensor Linear(Tensor x, string weight) => x.matmul(W(weight).t());
        Tensor Mlp(Tensor x, string prefix) => Linear(nn.functional.silu(Linear(x, prefix + "gate_proj.weight")).mul(Linear(x, prefix + "up_proj.weight")), prefix + "down_proj.weight");
        Tensor RotateHalf(Tensor x) => cat([x.narrow(-1, headDim / 2, headDim / 2).neg(), x.narrow(-1, 0, headDim / 2)], -1);

        var inverse = pow(D("rope_theta"), arange(0, headDim, 2, ScalarType.Float32).div(headDim)).reciprocal(); // (d/2)
        var frequencies = arange(length, ScalarType.Float32).unsqueeze(1).mul(inverse.unsqueeze(0)); // (T, d/2)
        var angles = cat([frequencies, frequencies], -1).unsqueeze(1); // (T, 1, d)
        var (cosine, sine) = (angles.cos(), angles.sin());
        var causal = ones(length, length).triu(1).to_type(ScalarType.Bool); // (T, T)

        var x = W("model.embed_tokens.weight").index_select(0, tensor(ids.Select(i => (long)i).ToArray())); // (T, H)
        for (var l = 0; l < layers; l++)
        {
            var p = $"model.layers.{l}.";
            var h = Norm(x, p + "input_layernorm.weight");
            var q = Linear(h, p + "self_attn.q_proj.weight").view(length, heads, headDim); // (T, nh, d)
            var k = Linear(h, p + "self_attn.k_proj.weight").view(length, kvHeads, headDim); // (T, nkv, d)
            var v = Linear(h, p + "self_attn.v_proj.weight").view(length, kvHeads, headDim);
            q = q.mul(cosine).add(RotateHalf(q).mul(sine));
            k = k.mul(cosine).add(RotateHalf(k).mul(sine));
            k = k.repeat_interleave(heads / kvHeads, 1);
            v = v.repeat_interleave(heads / kvHeads, 1);
            var scores = q.transpose(0, 1).matmul(k.permute(1, 2, 0)).div(Math.Sqrt(headDim)).masked_fill(causal, float.NegativeInfinity); // (nh, T, T)
            var attention = scores.softmax(-1).matmul(v.transpose(0, 1)).transpose(0, 1).reshape(length, hidden); // (T, H)
            x = x.add(Linear(attention, p + "self_attn.o_proj.weight"));
            h = Norm(x, p + "post_attention_layernorm.weight");
            if (denseLayers.Contains(l))
            {
                x = x.add(Mlp(h, p + "mlp."));
                continue;
            }

            var probabilities = Linear(h, p + "mlp.gate.weight").softmax(-1); // (T, E)
            var (topWeights, topIndices) = probabilities.topk(topK, -1);       // (T, k)
            topWeights = topWeights.div(topWeights.sum([-1], keepdim: true));
            var routed = zeros_like(h);
            for (var e = 0; e < experts; e++)
            {
                var weight = topWeights.mul(topIndices.eq(e)).sum([-1], keepdim: true); // (T, 1), 0 where e is not selected
                routed = routed.add(Mlp(h, $"{p}mlp.experts.{e}.").mul(weight));
            }

            var shared = Mlp(h, p + "mlp.shared_expert.").mul(Linear(h, p + "mlp.shared_expert_gate.weight").sigmoid()); // (T, H)
            x = x.add(routed).add(shared);
        }

        x = Norm(x, "model.norm.weight");
        var head = checkpoint.Contains("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight";
        var logits = Linear(x, head).cpu(); // (T, V)
        var result = new float[logits.shape[0], logits.shape[1]];
        Buffer.BlockCopy(logits.data<float>().ToArray(), 0, result, 0, (int)logits.numel() * sizeof(float));
        return result;
    }
}
