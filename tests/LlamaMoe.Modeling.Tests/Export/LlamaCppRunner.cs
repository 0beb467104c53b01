using LLama;
using LLama.Common;
using LLama.Native;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>Runs a GGUF file in llama.cpp (through LLamaSharp's CPU backend) and returns the logits of every position.</summary>
internal static class LlamaCppRunner
{
    private static readonly Lazy<bool> Configured = new(() =>
    {
        // Keep llama.cpp quiet except for errors (must be set before the native library loads).
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            if (level == LLamaLogLevel.Error)
            {
                TestContext.Progress.Write("[llama.cpp] " + message);
            }
        });
        return true;
    });

    /// <summary>Logits (T, V): one batch with logits requested for every token.</summary>
    public static float[,] Logits(string ggufPath, IReadOnlyList<int> ids)
    {
        _ = Configured.Value;
        // F32 KV cache and no flash attention: llama.cpp's CPU flash-attention path rounds Q/K/V to F16 (errors ~1e-2 on logits).
        var parameters = new ModelParams(ggufPath) { ContextSize = 64, BatchSize = 64, UBatchSize = 64, GpuLayerCount = 0, Threads = 2, TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (var i = 0; i < ids.Count; i++)
        {
            batch.Add((LLamaToken)ids[i], i, LLamaSeqId.Zero, logits: true);
        }

        var result = context.NativeHandle.Decode(batch);
        Assert.That(result, Is.EqualTo(DecodeResult.Ok), "llama_decode");
        var vocab = weights.Vocab.Count;
        var logits = new float[ids.Count, vocab];
        for (var i = 0; i < ids.Count; i++)
        {
            var row = context.NativeHandle.GetLogitsIth(i);
            for (var v = 0; v < vocab; v++)
            {
                logits[i, v] = row[v];
            }
        }

        return logits;
    }

    /// <summary>max |a − b| over all entries (shapes must agree).</summary>
    public static double MaxAbsDiff(float[,] a, float[,] b)
    {
        Assert.That(new[] { a.GetLength(0), a.GetLength(1) }, Is.EqualTo(new[] { b.GetLength(0), b.GetLength(1) }), "logit shapes");
        var max = 0.0;
        for (var i = 0; i < a.GetLength(0); i++)
        {
            for (var j = 0; j < a.GetLength(1); j++)
            {
                max = Math.Max(max, Math.Abs(a[i, j] - b[i, j]));
            }
        }

        return max;
    }
}
