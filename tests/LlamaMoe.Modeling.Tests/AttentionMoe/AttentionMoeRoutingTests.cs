using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using NUnit.Framework;
using TorchSharp;
using static LlamaMoe.Modeling.Tests.AttentionMoe.AttentionMoeFixtures;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.AttentionMoe;

/// <summary>Each expert attends only among the tokens routed to it, at their original positions.</summary>
public sealed class AttentionMoeRoutingTests
{
    private const int Length = 14;

    [OneTimeSetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void PerturbingATokenNotRoutedToAnExpertLeavesThatExpertsOutputUnchanged()
    {
        using var scope = NewDisposeScope();
        using var block = SignRoutedBlock(out var rotary);
        var x = randn(new long[] { 1, Length, 64 }, generator: new Generator(3));                         // (B, T, H)
        x[0, TensorIndex.Colon, 0] = tensor(new float[] { 1, -1, 1, 1, -1, -1, 1, -1, 1, 1, -1, 1, -1, -1 }); // expert 0 iff x0 > 0
        var (cos, sin) = rotary.Compute(arange(Length).unsqueeze(0), ScalarType.Float32);
        var before = block.Forward(x, cos, sin, null, null, 0);                                            // (B, T, H)

        const int perturbed = 4;                                                                           // routed to expert 1
        var changed = x.clone();
        changed[0, perturbed, TensorIndex.Slice(1, null)] = randn(63, generator: new Generator(9)) * 3;   // keeps x0, so keeps the routing
        var after = block.Forward(changed, cos, sin, null, null, 0);

        var expertZeroTokens = new[] { 0, 2, 3, 6, 8, 9, 11 };
        var laterExpertOneTokens = new[] { 5, 7, 10, 12, 13 };
        foreach (var token in expertZeroTokens)
        {
            Assert.That(MaxDifference(after[0, token], before[0, token]), Is.EqualTo(0f), $"expert-0 token {token}");
        }

        foreach (var token in laterExpertOneTokens)
        {
            Assert.That(MaxDifference(after[0, token], before[0, token]), Is.GreaterThan(1e-4f), $"expert-1 token {token} sees token {perturbed}");
        }
    }

    [Test]
    public void EachExpertEqualsCausalAttentionOverItsRoutedSubsequenceAtOriginalPositions()
    {
        using var scope = NewDisposeScope();
        using var block = SignRoutedBlock(out var rotary);
        var x = randn(new long[] { 2, Length, 64 }, generator: new Generator(4));                         // (B, T, H): rows route differently
        var positions = tensor(new long[] { 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }).unsqueeze(0).expand(2, Length); // offset positions
        var (cos, sin) = rotary.Compute(positions, ScalarType.Float32);                                    // (B, T, hd)
        var output = block.Forward(x, cos, sin, null, null, 0);                                            // (B, T, H)
        for (var row = 0; row < 2; row++)
        {
            for (var expert = 0; expert < 2; expert++)
            {
                var routed = Enumerable.Range(0, Length).Where(t => (x[row, t, 0].item<float>() > 0) == (expert == 0)).Select(t => (long)t).ToArray();
                Assume.That(routed, Is.Not.Empty);
                var index = tensor(routed);
                var reference = ReferenceExpert(block, expert, x[row].index_select(0, index), cos[row].index_select(0, index), sin[row].index_select(0, index));
                Assert.That(MaxDifference(output[row].index_select(0, index), reference), Is.LessThan(1e-5f), $"row {row} expert {expert}");
            }
        }
    }

    [Test]
    public void GradientsReachTheAttentionRouter()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 21);
        using var moe = AttentionMoeConversion.Apply(dense, AttentionMoeOptions.ForAllLayers(config, topK: 2, split: 2), seed: 2);
        moe.train();
        using var scope = NewDisposeScope();
        var ids = Tokens(2, 16, config.VocabSize, seed: 9);
        var logits = moe.forward(ids);                                                                     // (B, T, V)
        var loss = nn.functional.cross_entropy(logits.narrow(1, 0, 15).reshape(-1, config.VocabSize), ids.narrow(1, 1, 15).reshape(-1));
        loss.backward();
        foreach (var block in Blocks(moe))
        {
            var grad = block.Gate.InputProjection.grad;
            Assert.That(grad, Is.Not.Null);
            Assert.That(grad!.abs().sum().item<float>(), Is.GreaterThan(0f));
        }
    }

    [Test]
    public void RecordedRouterLogitsCoverEveryTokenAndSelectionsAreDistinct()
    {
        var config = Gqa();
        using var dense = DenseModel(config, seed: 22);
        using var moe = AttentionMoeConversion.Apply(dense, AttentionMoeOptions.ForAllLayers(config, topK: 3, split: 2));
        var block = Blocks(moe)[0];
        block.RecordRouting = true;
        using var scope = NewDisposeScope();
        moe.forward(Tokens(2, 10, config.VocabSize, seed: 10));
        Assert.That(block.LastRouterLogits!.shape, Is.EqualTo(new long[] { 20, 4 }));
        Assert.That(block.LastSelectedExperts!.shape, Is.EqualTo(new long[] { 20, 3 }));
        var sorted = block.LastSelectedExperts.sort(-1).Values;
        Assert.That(sorted.narrow(1, 1, 2).gt(sorted.narrow(1, 0, 2)).all().item<bool>(), Is.True);
    }

    // Two experts (split 1 of a 4-head/2-KV attention); the router sends a token to expert 0 iff its first feature is positive.
    private static AttentionMoeBlock SignRoutedBlock(out RotaryEmbedding rotary)
    {
        var config = Gqa() with { NumAttentionHeads = 4, NumKeyValueHeads = 2, ExplicitHeadDim = 16 };
        torch.manual_seed(7);
        var block = new AttentionMoeBlock(config.Validate(), new AttentionMoeOptions(2, 1, 1.0, 1, [0], RoutingWeights.Unit));
        using (no_grad())
        {
            var gate = block.Gate.InputProjection;                                                         // (2, H)
            gate.zero_();
            gate[0, 0] = tensor(10f);
            gate[1, 0] = tensor(-10f);
        }

        rotary = new RotaryEmbedding(config);
        return block;
    }

    // Plain causal attention of one expert over a compact token sequence (T_e, H) with its RoPE (T_e, hd).
    private static Tensor ReferenceExpert(AttentionMoeBlock block, int expert, Tensor x, Tensor cos, Tensor sin)
    {
        var t = x.shape[0];
        var heads = block.QueryHeadsPerExpert;
        var d = block.HeadDim;
        var q = block.QueryProjections[expert].forward(x).view(1, t, heads, d).transpose(1, 2);          // (1, Gq, T_e, d)
        var k = block.KeyProjections[expert].forward(x).view(1, t, 1, d).transpose(1, 2);                // (1, 1, T_e, d)
        var v = block.ValueProjections[expert].forward(x).view(1, t, 1, d).transpose(1, 2);              // (1, 1, T_e, d)
        q = RotaryEmbedding.Apply(q, cos.unsqueeze(0), sin.unsqueeze(0));
        k = RotaryEmbedding.Apply(k, cos.unsqueeze(0), sin.unsqueeze(0)).repeat(1, heads, 1, 1);
        v = v.repeat(1, heads, 1, 1);
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);              // (1, Gq, T_e, d)
        return block.OutputProjections[expert].forward(attended.transpose(1, 2).reshape(t, heads * d));   // (T_e, H)
    }
}
