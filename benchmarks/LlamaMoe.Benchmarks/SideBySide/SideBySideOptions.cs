using System.Globalization;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>
/// Command-line settings of <c>--only side-by-side</c>: our Trainer against stock Hugging Face transformers on the same
/// device, shapes, steps and precisions (see <see cref="SideBySideBenchmark"/>).
/// </summary>
public sealed record SideBySideOptions
{
    /// <summary>The <c>--only</c> name that selects this mode.</summary>
    public const string Name = "side-by-side";

    /// <summary>The usage text of this mode.</summary>
    public const string Usage =
        "usage: LlamaMoe.Benchmarks --only side-by-side [--device cpu|cuda] [--shape full|small] [--steps N] [--warmup N]\n" +
        "         [--precisions float32,tf32,bfloat16] [--models dense,moe] [--profile-steps N] [--no-eval]\n" +
        "         [--hf-baseline PATH | --no-hf] [--python PATH] [--hf-attn sdpa[,eager]] [--out FILE.md] [--json FILE.jsonl]\n" +
        "         [--no-generate] [--generate-prompts N] [--generate-new-tokens N] [--threads N] [--quick] [--no-hugetlb]\n" +
        "  --shape defaults to full on cuda and small on cpu; --quick means --shape small --steps 3 --warmup 1 --profile-steps 2.\n" +
        "  Generation: greedy, all prompts in one batch, exactly N new tokens; 64 prompts x 128 tokens on the full shape, 8 x 16 on the small one.";

    /// <summary>"cpu" or "cuda".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The model and batch shapes.</summary>
    public TrainingShape Shape { get; init; } = TrainingShape.Small;

    /// <summary>Timed optimizer steps per case.</summary>
    public int Steps { get; init; } = 30;

    /// <summary>Untimed steps before the timed ones.</summary>
    public int Warmup { get; init; } = 5;

    /// <summary>The precisions to run.</summary>
    public IReadOnlyList<BenchPrecision> Precisions { get; init; } = BenchPrecisions.All;

    /// <summary>The models to run: <c>dense</c> and/or <c>moe</c>.</summary>
    public IReadOnlyList<string> Models { get; init; } = ["dense", "moe"];

    /// <summary>Steps of the phase-profiling pass per case (after one untimed step); 0 turns it off.</summary>
    public int ProfileSteps { get; init; } = 3;

    /// <summary>Whether to measure bf16 evaluation forward throughput.</summary>
    public bool Eval { get; init; } = true;

    /// <summary>Whether to compare greedy generation throughput (off with --no-generate).</summary>
    public bool Generate { get; init; } = true;

    /// <summary>Prompts decoded together in the generation comparison.</summary>
    public int GeneratePrompts { get; init; } = 64;

    /// <summary>New tokens per prompt in the generation comparison (exactly this many).</summary>
    public int GenerateNewTokens { get; init; } = 128;

    /// <summary>The hf_baseline.py path given with --hf-baseline, or null to look for it.</summary>
    public string? BaselineScript { get; init; }

    /// <summary>Whether --no-hf turned the Python baseline off.</summary>
    public bool SkipBaseline { get; init; }

    /// <summary>The Python interpreter (--python, else LLAMAMOE_PYTHON, else python3).</summary>
    public string Python { get; init; } = Environment.GetEnvironmentVariable("LLAMAMOE_PYTHON") is { Length: > 0 } p ? p : "python3";

    /// <summary>The baseline's attention implementations (the first is the one ratios use).</summary>
    public IReadOnlyList<string> BaselineAttention { get; init; } = ["sdpa"];

    /// <summary>The markdown report file, or null.</summary>
    public string? OutFile { get; init; }

    /// <summary>The JSON-lines results file (ours and theirs), or null.</summary>
    public string? JsonFile { get; init; }

    /// <summary>Torch intra-op threads.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Whether <paramref name="args"/> select this mode (<c>--only side-by-side</c>).</summary>
    public static bool IsRequested(IReadOnlyList<string> args)
    {
        for (var i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == "--only" && args[i + 1] == Name)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses the arguments; returns null and writes the reason to <paramref name="log"/> on a usage error.</summary>
    public static SideBySideOptions? Parse(IReadOnlyList<string> args, TextWriter log)
    {
        var options = new SideBySideOptions();
        string? shape = null;
        var quick = false;
        int? steps = null, warmup = null, profile = null, prompts = null, newTokens = null;
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            var consumed = true;
            switch (args[i])
            {
                case "--help" or "-h":
                    log.WriteLine(Usage);
                    return null;
                case "--quick": quick = true; consumed = false; break;
                case "--no-hugetlb": consumed = false; break;
                case "--no-eval": options = options with { Eval = false }; consumed = false; break;
                case "--no-hf": options = options with { SkipBaseline = true }; consumed = false; break;
                case "--no-generate": options = options with { Generate = false }; consumed = false; break;
                case "--generate-prompts" when Count(value, 1) is { } n: prompts = n; break;
                case "--generate-new-tokens" when Count(value, 1) is { } n: newTokens = n; break;
                case "--only" when value == Name: break;
                case "--device" when value is "cpu" or "cuda": options = options with { Device = value }; break;
                case "--shape" when value is not null && TrainingShape.Parse(value) is not null: shape = value; break;
                case "--steps" when Count(value, 1) is { } n: steps = n; break;
                case "--warmup" when Count(value, 1) is { } n: warmup = n; break;
                case "--profile-steps" when Count(value, 0) is { } n: profile = n; break;
                case "--threads" when Count(value, 1) is { } n: options = options with { Threads = n }; break;
                case "--hf-baseline" when value is not null: options = options with { BaselineScript = value }; break;
                case "--python" when value is not null: options = options with { Python = value }; break;
                case "--out" when value is not null: options = options with { OutFile = value }; break;
                case "--json" when value is not null: options = options with { JsonFile = value }; break;
                case "--hf-attn" when List(value, ["sdpa", "eager"]) is { } attention: options = options with { BaselineAttention = attention }; break;
                case "--models" when List(value, ["dense", "moe"]) is { } models: options = options with { Models = models }; break;
                case "--precisions" when List(value, BenchPrecisions.All.Select(p => p.Name()).ToArray()) is { } names:
                    options = options with { Precisions = names.Select(n => BenchPrecisions.Parse(n)!.Value).ToList() };
                    break;
                default:
                    log.WriteLine($"unknown or incomplete argument '{args[i]}'");
                    log.WriteLine(Usage);
                    return null;
            }

            if (consumed)
            {
                i++;
            }
        }

        shape ??= quick || options.Device == "cpu" ? "small" : "full";
        var full = shape == "full";
        return options with
        {
            Shape = TrainingShape.Parse(shape)!,
            Steps = steps ?? (quick ? 3 : options.Steps),
            Warmup = warmup ?? (quick ? 1 : options.Warmup),
            ProfileSteps = profile ?? (quick ? 2 : options.ProfileSteps),
            GeneratePrompts = prompts ?? (full ? 64 : 8),
            GenerateNewTokens = newTokens ?? (full ? 128 : 16),
        };
    }

    private static int? Count(string? value, int minimum) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= minimum ? n : null;

    private static List<string>? List(string? value, IReadOnlyList<string> allowed)
    {
        var items = value?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        return items is { Count: > 0 } && items.All(allowed.Contains) ? items : null;
    }
}
