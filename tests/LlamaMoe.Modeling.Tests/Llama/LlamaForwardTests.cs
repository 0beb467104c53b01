using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Llama;

public sealed class LlamaForwardTests
{
    [SetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void PackedDocumentsWithRestartedPositionsAndBlockMaskMatchSeparateRuns()
    {
        torch.manual_seed(1);
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        long[] docA = [0, 4, 8, 15], docB = [0, 16, 23, 42, 7];
        using var scope = NewDisposeScope();
        var packed = torch.tensor(docA.Concat(docB).ToArray()).unsqueeze(0);                                  // (1, 9)
        var positions = torch.tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3, 4 }).unsqueeze(0);                  // (1, 9)
        var allowed = torch.zeros(new long[] { 1, 1, 9, 9 }, ScalarType.Bool);
        allowed[0, 0, TensorIndex.Slice(0, 4), TensorIndex.Slice(0, 4)] = torch.ones(4, 4, ScalarType.Bool);
        allowed[0, 0, TensorIndex.Slice(4, 9), TensorIndex.Slice(4, 9)] = torch.ones(5, 5, ScalarType.Bool);
        var logits = model.Forward(packed, positions, allowed).Logits;                                       // (1, 9, V)
        var a = model.forward(torch.tensor(docA).unsqueeze(0));
        var b = model.forward(torch.tensor(docB).unsqueeze(0));
        Assert.That(logits[0, TensorIndex.Slice(0, 4)].allclose(a[0], rtol: 1e-5, atol: 1e-5), Is.True);
        Assert.That(logits[0, TensorIndex.Slice(4, 9)].allclose(b[0], rtol: 1e-5, atol: 1e-5), Is.True);
    }

    [Test]
    public void KvCacheGivesTheSameLogitsAsAFullForward()
    {
        torch.manual_seed(2);
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        using var scope = NewDisposeScope();
        var ids = torch.tensor(new long[] { 0, 3, 9, 27, 81, 50 }).unsqueeze(0);
        var full = model.forward(ids);
        using var cache = new KvCache(2);
        var first = model.Forward(ids.narrow(1, 0, 4), cache: cache).Logits;
        var second = model.Forward(ids.narrow(1, 4, 2), cache: cache).Logits;
        Assert.That(torch.cat([first, second], 1).allclose(full, rtol: 1e-5, atol: 1e-5), Is.True);
    }

    [Test]
    public void RightPaddingDoesNotChangeRealTokens()
    {
        torch.manual_seed(3);
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style());
        using var scope = NewDisposeScope();
        var single = model.forward(torch.tensor(new long[] { 0, 5, 6 }).unsqueeze(0));
        var batch = model.forward(torch.tensor(new long[] { 0, 5, 6, 0, 0, 7, 8, 9, 10, 11 }, [2, 5]));
        Assert.That(batch[0, TensorIndex.Slice(0, 3)].allclose(single[0], rtol: 1e-5, atol: 1e-5), Is.True);
    }

    [Test]
    public void Llama3RopeScalingLeavesHighFrequenciesAndDividesLowOnes()
    {
        var config = TinyLlamaFactory.Llama3Style();
        var scaled = new RotaryEmbedding(config).InverseFrequencyValues;
        var plain = new RotaryEmbedding(config with { RopeScaling = null }).InverseFrequencyValues;
        Assert.That(scaled[0], Is.EqualTo(plain[0]), "highest frequency unchanged");
        Assert.That(scaled[^1], Is.EqualTo(plain[^1] / 8.0).Within(1e-12), "lowest frequency divided by factor");
    }

    [Test]
    public void CustomFeedForwardFactoryIsRegisteredUnderItsStateDictName()
    {
        var factories = new LlamaBlockFactories(FeedForward: (i, c) => i == 1 ? new RenamedMlp(c) : new SwiGluMlp(c));
        using var model = new LlamaForCausalLM(TinyLlamaFactory.Llama3Style(), factories);
        var names = model.state_dict().Keys.ToList();
        Assert.That(names, Does.Contain("model.layers.0.mlp.gate_proj.weight"));
        Assert.That(names, Does.Contain("model.layers.1.block_sparse_moe.inner.up_proj.weight"));
    }

    private sealed class RenamedMlp : FeedForwardBlock
    {
        private readonly SwiGluMlp inner;

        public RenamedMlp(LlamaConfig config) : base(nameof(RenamedMlp))
        {
            inner = new SwiGluMlp(config);
            register_module("inner", inner);
        }

        public override string StateDictName => "block_sparse_moe";

        public override Tensor forward(Tensor input) => inner.forward(input);

        protected override void RegisterComponents()
        {
        }
    }
}
