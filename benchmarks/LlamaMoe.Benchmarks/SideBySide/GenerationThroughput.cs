using System.Diagnostics;
using System.Text;
using System.Text.Json;
using LlamaMoe.Modeling.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>
/// The prompts both systems decode in the generation comparison: <see cref="Count"/> prompts of random ids in
/// <c>[3, V)</c> (no BOS, EOS or padding id) with lengths drawn uniformly from <see cref="MinLength"/> to
/// <see cref="MaxLength"/>, from a seeded <see cref="Random"/>. Written to a JSON file that hf_baseline.py reads
/// (<c>--generate-prompts FILE</c>), so both sides see the same ids.
/// </summary>
/// <param name="Prompts">The prompts' token ids.</param>
/// <param name="NewTokens">Exactly this many new tokens per prompt.</param>
/// <param name="Seed">The seed the prompts were drawn with.</param>
public sealed record GenerationPrompts(IReadOnlyList<IReadOnlyList<int>> Prompts, int NewTokens, int Seed)
{
    /// <summary>The shortest prompt length drawn.</summary>
    public const int MinLength = 64;

    /// <summary>The longest prompt length drawn.</summary>
    public const int MaxLength = 128;

    /// <summary>The first id drawn (0 padding, 1 BOS, 2 EOS stay out of the prompts).</summary>
    public const int FirstId = 3;

    /// <summary>The number of prompts (all decoded as one batch).</summary>
    public int Count => Prompts.Count;

    /// <summary>Draws <paramref name="count"/> prompts for a vocabulary of <paramref name="vocabulary"/> ids.</summary>
    public static GenerationPrompts Create(int count, int newTokens, int vocabulary, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(newTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(vocabulary, FirstId);
        var random = new Random(seed);
        var prompts = new IReadOnlyList<int>[count];
        for (var i = 0; i < count; i++)
        {
            var length = random.Next(MinLength, MaxLength + 1);
            prompts[i] = Enumerable.Range(0, length).Select(_ => random.Next(FirstId, vocabulary)).ToArray();
        }

        return new GenerationPrompts(prompts, newTokens, seed);
    }

    /// <summary>Writes <c>{"seed": …, "new_tokens": …, "prompts": [[ids], …]}</c> to <paramref name="path"/>.</summary>
    public void Write(string path)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, object> { ["seed"] = Seed, ["new_tokens"] = NewTokens, ["prompts"] = Prompts });
        File.WriteAllText(path, json, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}

/// <summary>Our greedy generation throughput on one model.</summary>
/// <param name="Model"><c>dense</c> or <c>moe</c>.</param>
/// <param name="TokensPerSecond">Prompts × new tokens / seconds of the timed call; 0 when it failed.</param>
/// <param name="Seconds">Wall seconds of the timed call.</param>
/// <param name="PrefillSeconds">The generator's own prefill time within the call.</param>
/// <param name="Error">Why it failed, or null.</param>
public sealed record GenerationResult(string Model, double TokensPerSecond, double Seconds, double PrefillSeconds, string? Error);

/// <summary>
/// Times <see cref="BatchedGenerator.Generate"/> on the bf16 model: greedy, exactly N new tokens per prompt (no stop
/// tokens), all prompts in one batch, KV cache. One untimed warm-up call on the first few prompts comes first; the timed
/// call is bracketed by device synchronisation. The Hugging Face counterpart is hf_generate.py.
/// </summary>
public static class GenerationThroughput
{
    /// <summary>Prompts of the untimed warm-up call (as hf_generate.WARMUP_PROMPTS).</summary>
    public const int WarmupPrompts = 4;

    /// <summary>Measures model <paramref name="name"/> on <paramref name="prompts"/>.</summary>
    public static GenerationResult Measure(SideBySideModels models, string name, Device device, GenerationPrompts prompts)
    {
        try
        {
            manual_seed(0);
            using var model = models.Load(name, device);
            model.eval();
            model.to(ScalarType.BFloat16);
            var options = new BatchedGenerationOptions(new GenerationOptions(MaxNewTokens: prompts.NewTokens, Temperature: 0, StopTokenIds: []), BatchSize: prompts.Count);
            var warmup = prompts.Prompts.Take(WarmupPrompts).ToList();
            BatchedGenerator.Generate(model, warmup, options with { BatchSize = warmup.Count });

            BenchPrecisions.Synchronize(device);
            var watch = Stopwatch.StartNew();
            var result = BatchedGenerator.Generate(model, prompts.Prompts, options);
            BenchPrecisions.Synchronize(device);
            watch.Stop();

            var wrong = result.Sequences.Count(s => s.Tokens.Count != prompts.NewTokens);
            if (wrong > 0)
            {
                return new GenerationResult(name, 0, watch.Elapsed.TotalSeconds, 0, $"{wrong} of {prompts.Count} prompts did not get exactly {prompts.NewTokens} new tokens");
            }

            var seconds = watch.Elapsed.TotalSeconds;
            return new GenerationResult(name, (double)prompts.Count * prompts.NewTokens / seconds, seconds, result.Timing.Prefill.TotalSeconds, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new GenerationResult(name, 0, 0, 0, TrainerThroughput.Failure(ex));
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
