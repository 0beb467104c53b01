using System.Buffers.Binary;
using LlamaMoe.Modeling.Formats.Llama2c;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Import;

public sealed class Llama2cUntiedTests
{
    [Test]
    public void NegativeVocabSizeReadsTheSeparateClassifierAndPermutesQk()
    {
        TorchRuntime.EnsureLoaded();
        const int dim = 16, hidden = 24, layers = 1, heads = 4, kvHeads = 2, vocab = 32, seqLen = 8, headDim = dim / heads;
        long[] sizes = [vocab * dim, dim, dim * dim, kvHeads * headDim * dim, kvHeads * headDim * dim, dim * dim, dim, hidden * dim, dim * hidden, hidden * dim, dim, seqLen * headDim, vocab * dim];
        var floats = Enumerable.Range(0, (int)sizes.Sum()).Select(i => (float)Math.Sin(i)).ToArray();
        using var dir = new TempDirectory();
        var path = dir.Combine("untied.bin");
        var bytes = new byte[28 + (floats.Length * 4)];
        int[] header = [dim, hidden, layers, heads, kvHeads, -vocab, seqLen];
        for (var i = 0; i < 7; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), header[i]);
        }

        Buffer.BlockCopy(floats, 0, bytes, 28, floats.Length * 4);
        File.WriteAllBytes(path, bytes);
        using var model = Llama2cImporter.Read(path);
        var tensors = model.Tensors.ToDictionary(p => p.Key, p => p.Value);
        Assert.That(model.Config.TieWordEmbeddings, Is.False);
        var classifier = floats[^(vocab * dim)..];
        Assert.That(tensors["lm_head.weight"].data<float>().ToArray(), Is.EqualTo(classifier));
        var wqStart = (int)(sizes[0] + sizes[1]);
        using var wq = torch.tensor(floats[wqStart..(wqStart + (dim * dim))]).reshape(dim, dim);
        // Row r of head h in HF layout: first half takes interleaved rows 2i, second half rows 2i+1.
        var q = tensors["model.layers.0.self_attn.q_proj.weight"];
        Assert.That(q[1].allclose(wq[2], rtol: 0, atol: 0), Is.True);
        Assert.That(q[2].allclose(wq[1], rtol: 0, atol: 0), Is.True);
        Assert.That(q[headDim + 1].allclose(wq[headDim + 2], rtol: 0, atol: 0), Is.True);
    }
}
