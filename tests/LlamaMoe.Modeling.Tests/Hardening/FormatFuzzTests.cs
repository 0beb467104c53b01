using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Llama2c;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Formats.SentencePiece;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Hardening;

/// <summary>
/// Mutates real files of every binary format we read (llama2.c, GGUF, SentencePiece, safetensors) with a fixed seed and
/// asserts that each load is a valid model or a coded <see cref="LlamaMoeException"/>: never another exception, never a
/// hang, never a managed allocation far beyond the file's size.
/// </summary>
public sealed partial class FormatFuzzTests
{
    /// <summary>Mutations per format (four formats).</summary>
    private const int IterationsPerFormat = 1000;

    private const int Seed = 15;
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(5);

    private static readonly ulong[] Extremes =
    [
        0, 1, 0x7F, 0xFF, 0xFFFF, int.MaxValue, uint.MaxValue, 1UL << 32, (1UL << 32) + 1, long.MaxValue, 1UL << 63, ulong.MaxValue, ulong.MaxValue - 7,
    ];

    private static readonly string[] JsonReplacements =
        ["18446744073709551615", "9223372036854775807", "-1", "\"4\"", "1e308", "0", "4294967296", "null", "[]", "{}", "\"\\u0000\""];

    private TempDirectory dir = null!;

    [SetUp]
    public void Create()
    {
        TorchRuntime.EnsureLoaded();
        dir = new TempDirectory("fuzz");
    }

    [TearDown]
    public void Remove() => dir.Dispose();

    [Test]
    public void MutatedRealFilesLoadAsValidModelsOrFailWithAnLmoeCode()
    {
        var safetensors = WriteTinySafetensors();
        var gguf = File.ReadAllBytes(SharedData.Stories260KGguf);
        var formats = new (string Name, string Extension, byte[] Bytes, int HeaderEnd, Action<string> Load)[]
        {
            ("llama2c", ".bin", File.ReadAllBytes(SharedData.Stories260KBin), 64, LoadLlama2c),
            ("gguf", ".gguf", gguf, (int)GgufFile.Read(SharedData.Stories260KGguf).Tensors.Min(t => t.Offset), LoadGguf),
            ("sentencepiece", ".model", File.ReadAllBytes(SharedData.Tok512Model), int.MaxValue, LoadTokenizer),
            ("safetensors", ".safetensors", safetensors, 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(safetensors), LoadSafetensors),
        };

        var random = new Random(Seed);
        var failures = new List<string>();
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var worstRatio = 0.0;
        var clock = Stopwatch.StartNew();
        foreach (var (name, extension, original, headerEnd, load) in formats)
        {
            foreach (var kind in new[] { "unmutated" }.Concat(Enumerable.Range(0, IterationsPerFormat).Select(_ => string.Empty)))
            {
                var (mutation, bytes) = kind == "unmutated" ? ("unmutated", original) : Mutate(random, name, original, Math.Min(headerEnd, original.Length));
                var path = dir.Combine("fuzz" + extension);
                File.WriteAllBytes(path, bytes);
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var task = Task.Run(() => load(path));
                string outcome;
                try
                {
                    if (!task.Wait(LoadTimeout))
                    {
                        failures.Add($"{name} {mutation}: no result after {LoadTimeout.TotalSeconds} s (hang)");
                        continue;
                    }

                    outcome = "valid";
                }
                catch (AggregateException ex) when (ex.InnerException is LlamaMoeException coded && LmoeCode().IsMatch(coded.Code))
                {
                    outcome = coded.Code;
                }
                catch (AggregateException ex)
                {
                    failures.Add($"{name} {mutation}: {ex.InnerException?.GetType().Name}: {ex.InnerException?.Message}");
                    continue;
                }

                var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
                if (bytes.Length >= 4096)
                {
                    worstRatio = Math.Max(worstRatio, (double)allocated / bytes.Length);
                }

                if (allocated > (32L * bytes.Length) + (16L << 20))
                {
                    failures.Add($"{name} {mutation}: allocated {allocated} bytes for a {bytes.Length}-byte file");
                }

                if (kind == "unmutated" && outcome != "valid")
                {
                    failures.Add($"{name}: the unmutated file does not load ({outcome})");
                }

                var key = $"{name} {outcome}";
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            }
        }

        TestContext.Out.WriteLine($"{formats.Length * (IterationsPerFormat + 1)} loads in {clock.Elapsed.TotalSeconds:F1} s; worst managed allocation {worstRatio:F1} x the file size (files of 4 KB or more)");
        foreach (var (key, count) in outcomes)
        {
            TestContext.Out.WriteLine($"  {key}: {count}");
        }

        Assert.That(failures, Is.Empty, string.Join(Environment.NewLine, failures.Take(20)));
    }

    private static (string Mutation, byte[] Bytes) Mutate(Random random, string format, byte[] original, int headerEnd)
    {
        var choice = random.Next(format == "safetensors" ? 6 : 5);
        var bytes = original.ToArray();
        switch (choice)
        {
            case 0:
            {
                var flips = 1 + random.Next(8);
                var positions = new List<int>();
                for (var i = 0; i < flips; i++)
                {
                    var position = HeaderPosition(random, headerEnd);
                    positions.Add(position);
                    bytes[position] ^= (byte)(1 << random.Next(8));
                }

                return ($"bit flips at [{string.Join(", ", positions)}]", bytes);
            }

            case 1:
            {
                var length = random.Next(2) == 0 ? random.Next(Math.Min(headerEnd + 64, original.Length)) : random.Next(original.Length);
                return ($"truncated to {length} bytes", bytes[..length]);
            }

            case 2:
            case 3:
            {
                var width = choice == 2 ? 4 : 8;
                var position = Math.Min(HeaderPosition(random, headerEnd), Math.Max(0, original.Length - width));
                if (random.Next(2) == 0)
                {
                    position &= ~(width - 1); // binary formats mostly store aligned fields
                }

                var value = Extremes[random.Next(Extremes.Length)];
                if (width == 4)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(position), unchecked((uint)value));
                }
                else
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(position), value);
                }

                return ($"{width}-byte field at {position} set to {value}", bytes);
            }

            case 4:
            {
                var position = HeaderPosition(random, headerEnd);
                var inserted = new byte[1 + random.Next(16)];
                random.NextBytes(inserted);
                return ($"{inserted.Length} bytes inserted at {position}", [.. original.AsSpan(0, position), .. inserted, .. original.AsSpan(position)]);
            }

            default:
            {
                // safetensors: replace one number of the JSON header, keeping the length prefix consistent.
                var header = Encoding.UTF8.GetString(original, 8, headerEnd - 8);
                var numbers = Number().Matches(header);
                var match = numbers[random.Next(numbers.Count)];
                var replacement = JsonReplacements[random.Next(JsonReplacements.Length)];
                var edited = Encoding.UTF8.GetBytes(header[..match.Index] + replacement + header[(match.Index + match.Length)..]);
                var result = new byte[8 + edited.Length + (original.Length - headerEnd)];
                BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)edited.Length);
                edited.CopyTo(result, 8);
                original.AsSpan(headerEnd).CopyTo(result.AsSpan(8 + edited.Length));
                return ($"header number '{match.Value}' at {match.Index} replaced by {replacement}", result);
            }
        }
    }

    /// <summary>A position in the header, half the time in its last 4 KB (GGUF's tensor directory, safetensors' last entries).</summary>
    private static int HeaderPosition(Random random, int headerEnd) =>
        random.Next(2) == 0 ? random.Next(headerEnd) : headerEnd - 1 - random.Next(Math.Min(headerEnd, 4096));

    private static void LoadLlama2c(string path)
    {
        using var model = Llama2cImporter.Read(path);
    }

    private static void LoadGguf(string path)
    {
        var file = GgufFile.Read(path);
        using var model = GgufImporter.Read(file);
        SentencePieceModelWriter.FromGguf(file);
    }

    private static void LoadTokenizer(string path)
    {
        SentencePieceModelReader.Read(path);
        SentencePieceTextTokenizer.Load(path).Encode("Once upon a time");
    }

    private static void LoadSafetensors(string path)
    {
        using var file = SafetensorsFile.Open(path);
        foreach (var name in file.Tensors.Keys)
        {
            using var tensor = file.Read(name);
        }
    }

    /// <summary>A tiny model's weights (embedding, one layer, norm) written by our own writer.</summary>
    private byte[] WriteTinySafetensors()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(Seed);
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("model.embed_tokens.weight", torch.randn(32, 8)),
            new("model.layers.0.self_attn.q_proj.weight", torch.randn(8, 8).to(ScalarType.BFloat16)),
            new("model.layers.0.self_attn.k_proj.weight", torch.randn(4, 8).to(ScalarType.Float16)),
            new("model.layers.0.mlp.gate_proj.weight", torch.randn(12, 8)),
            new("model.layers.0.input_layernorm.weight", torch.ones(8)),
            new("model.norm.weight", torch.ones(8)),
        };
        var path = dir.Combine("tiny.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return File.ReadAllBytes(path);
    }

    [GeneratedRegex("^LMOE[0-9]{4}$")]
    private static partial Regex LmoeCode();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Number();
}
