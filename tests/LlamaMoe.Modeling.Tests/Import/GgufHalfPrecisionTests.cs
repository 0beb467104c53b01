using System.Text;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Import;

public sealed class GgufHalfPrecisionTests
{
    private const int Dim = 16, Hidden = 24, Heads = 4, KvHeads = 2, Vocab = 32;

    [Test]
    public void F16AndBf16TensorsImportWithPermutedQkAndUntiedOutput()
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(5);
        using var scope = NewDisposeScope();
        var tensors = new List<(string Name, Tensor Value)>
        {
            ("token_embd.weight", torch.randn(Vocab, Dim).to_type(ScalarType.BFloat16)),
            ("blk.0.attn_norm.weight", torch.rand(Dim)),
            ("blk.0.attn_q.weight", torch.randn(Dim, Dim).to_type(ScalarType.Float16)),
            ("blk.0.attn_k.weight", torch.randn(KvHeads * 4, Dim).to_type(ScalarType.Float16)),
            ("blk.0.attn_v.weight", torch.randn(KvHeads * 4, Dim).to_type(ScalarType.Float16)),
            ("blk.0.attn_output.weight", torch.randn(Dim, Dim).to_type(ScalarType.Float16)),
            ("blk.0.ffn_norm.weight", torch.rand(Dim)),
            ("blk.0.ffn_gate.weight", torch.randn(Hidden, Dim).to_type(ScalarType.BFloat16)),
            ("blk.0.ffn_down.weight", torch.randn(Dim, Hidden).to_type(ScalarType.BFloat16)),
            ("blk.0.ffn_up.weight", torch.randn(Hidden, Dim).to_type(ScalarType.BFloat16)),
            ("output_norm.weight", torch.rand(Dim)),
            ("output.weight", torch.randn(Vocab, Dim)),
        };
        using var dir = new TempDirectory();
        var path = dir.Combine("tiny.gguf");
        File.WriteAllBytes(path, WriteGguf(tensors));
        using var model = GgufImporter.Read(GgufFile.Read(path));
        var imported = model.Tensors.ToDictionary(p => p.Key, p => p.Value);
        var source = tensors.ToDictionary(p => p.Name, p => p.Value.to_type(ScalarType.Float32));
        Assert.That(model.Config.TieWordEmbeddings, Is.False);
        Assert.That(model.Config.NumKeyValueHeads, Is.EqualTo(KvHeads));
        Assert.That(imported["model.embed_tokens.weight"].equal(source["token_embd.weight"]).all().item<bool>(), Is.True);
        Assert.That(imported["lm_head.weight"].equal(source["output.weight"]).all().item<bool>(), Is.True);
        Assert.That(imported["model.layers.0.mlp.down_proj.weight"].equal(source["blk.0.ffn_down.weight"]).all().item<bool>(), Is.True);
        var expectedQ = RopePermutation.InterleavedToHalves(source["blk.0.attn_q.weight"], Heads);
        var expectedK = RopePermutation.InterleavedToHalves(source["blk.0.attn_k.weight"], KvHeads);
        Assert.That(imported["model.layers.0.self_attn.q_proj.weight"].equal(expectedQ).all().item<bool>(), Is.True);
        Assert.That(imported["model.layers.0.self_attn.k_proj.weight"].equal(expectedK).all().item<bool>(), Is.True);
        Assert.That(imported["model.layers.0.self_attn.v_proj.weight"].equal(source["blk.0.attn_v.weight"]).all().item<bool>(), Is.True);
    }

    private static byte[] WriteGguf(List<(string Name, Tensor Value)> tensors)
    {
        using var s = new MemoryStream();
        var w = new BinaryWriter(s, Encoding.UTF8);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        var kvs = new (string Key, object Value)[]
        {
            ("general.architecture", "llama"), ("llama.block_count", 1u), ("llama.embedding_length", (uint)Dim), ("llama.feed_forward_length", (uint)Hidden),
            ("llama.attention.head_count", (uint)Heads), ("llama.attention.head_count_kv", (uint)KvHeads), ("llama.context_length", 64u),
            ("llama.attention.layer_norm_rms_epsilon", 1e-5f),
        };
        w.Write((ulong)kvs.Length);
        foreach (var (key, value) in kvs)
        {
            WriteString(w, key);
            switch (value)
            {
                case string text:
                    w.Write(8u);
                    WriteString(w, text);
                    break;
                case uint u:
                    w.Write(4u);
                    w.Write(u);
                    break;
                case float f:
                    w.Write(6u);
                    w.Write(f);
                    break;
            }
        }

        ulong offset = 0;
        var data = new List<byte[]>();
        foreach (var (name, value) in tensors)
        {
            WriteString(w, name);
            w.Write((uint)value.dim());
            foreach (var d in value.shape.Reverse())
            {
                w.Write((ulong)d);
            }

            w.Write(value.dtype switch { ScalarType.Float32 => 0u, ScalarType.Float16 => 1u, _ => 30u });
            w.Write(offset);
            var bytes = value.bytes.ToArray();
            var padded = new byte[(bytes.Length + 31) / 32 * 32];
            bytes.CopyTo(padded, 0);
            data.Add(padded);
            offset += (ulong)padded.Length;
        }

        while (s.Position % 32 != 0)
        {
            w.Write((byte)0);
        }

        foreach (var block in data)
        {
            w.Write(block);
        }

        w.Flush();
        return s.ToArray();
    }

    private static void WriteString(BinaryWriter w, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
