using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>Matmul peaks of the run (FLOP/s), measured on the benchmark's device.</summary>
/// <param name="BFloat16">bf16 n³ matmul (the MFU denominator).</param>
/// <param name="Float32">float32 with TF32 off.</param>
/// <param name="TF32">float32 with TF32 on (equal to float32 on a CPU).</param>
/// <param name="Size">n.</param>
public sealed record MatmulPeaks(double BFloat16, double Float32, double TF32, int Size)
{
    /// <summary>The peak of a precision's own matmul dtype.</summary>
    public double For(BenchPrecision precision) => precision switch
    {
        BenchPrecision.BFloat16 => BFloat16,
        BenchPrecision.TF32 => TF32,
        _ => Float32,
    };
}

/// <summary>Everything one side-by-side run measured.</summary>
/// <param name="Options">The settings.</param>
/// <param name="Peaks">The matmul peaks.</param>
/// <param name="Training">Our trainer cases.</param>
/// <param name="Profiles">Phase profiles.</param>
/// <param name="Evals">Our bf16 evaluation forward throughput.</param>
/// <param name="Generations">Our bf16 greedy generation throughput.</param>
/// <param name="Baseline">The Hugging Face baseline.</param>
public sealed record SideBySideResults(
    SideBySideOptions Options, MatmulPeaks Peaks, IReadOnlyList<TrainingCaseResult> Training, IReadOnlyList<PhaseProfile> Profiles,
    IReadOnlyList<EvalResult> Evals, IReadOnlyList<GenerationResult> Generations, HfBaselineRun Baseline);

/// <summary>Renders <see cref="SideBySideResults"/> as markdown (console and --out) and JSON lines (--json).</summary>
public static class SideBySideReport
{
    /// <summary>The markdown report.</summary>
    public static string Markdown(SideBySideResults r)
    {
        var o = r.Options;
        var md = new StringBuilder();
        md.AppendLine("# LlamaMoe vs Hugging Face transformers, training side by side");
        md.AppendLine();
        md.AppendLine(Inv($"- device: {o.Device}{BaselineDevice(r)}; shape {o.Shape.Describe()}; {DateTime.UtcNow:yyyy-MM-dd}"));
        md.AppendLine(Inv($"- torch threads: {o.Threads}, GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "(unset)"}"));
        md.AppendLine(Inv($"- {o.Steps} timed steps after {o.Warmup} warm-up steps per case, B·T = {o.Shape.TokensPerStep} tokens per step, random tokens, AdamW, clipping 1.0"));
        md.AppendLine(Inv($"- ours: LlamaMoe Trainer (TorchSharp); MoE = sequential split of the dense model by MoeConverter, Switch balance loss 0.01. Theirs: {BaselineName(r)}"));
        md.AppendLine(Inv($"- MFU = tokens/s · (6·N + 12·L·D·T) / bf16 matmul peak of this run; N = active non-embedding parameters (experts k/E, LM head counted)"));
        md.AppendLine(Inv($"- matmul {r.Peaks.Size}³ peaks: bf16 {Tf(r.Peaks.BFloat16)}, float32 {Tf(r.Peaks.Float32)}, TF32 {Tf(r.Peaks.TF32)} TFLOP/s"));
        if (r.Baseline.Note is { } note)
        {
            md.AppendLine($"- baseline: {note}");
        }

        md.AppendLine();
        md.AppendLine("## Training throughput");
        md.AppendLine();
        md.AppendLine("| model | precision | ours tok/s | ours ms/step | ours MFU | ours % of own-dtype peak | ours loss first→last | theirs tok/s | theirs MFU | ours / theirs | target |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|");
        foreach (var c in r.Training)
        {
            var theirs = Theirs(r, c.Model, c.Precision.Name(), "train");
            var theirMfu = theirs is { Error: null, TokensPerSecond: > 0 } && c.Error is null ? Pct(theirs.TokensPerSecond * c.FlopsPerToken / r.Peaks.BFloat16) : "–";
            double? target = c.Precision == BenchPrecision.BFloat16 ? (c.Model == "moe" ? 1.5 : 1.0) : null;
            md.AppendLine(c.Error is not null
                ? $"| {c.Model} | {c.Precision.Name()} | failed: {Cell(c.Error)} | | | | | {Rate(theirs)} | | | {Target(target, null)} |"
                : Inv($"| {c.Model} | {c.Precision.Name()} | {c.TokensPerSecond:N0} | {c.StepMilliseconds:F1} | {Pct(c.Flops / r.Peaks.BFloat16)} | {Pct(c.Flops / r.Peaks.For(c.Precision))} | {c.FirstLoss:F3}→{c.LastLoss:F3} | {Rate(theirs)} | {theirMfu} | {Ratio(c.TokensPerSecond, theirs?.TokensPerSecond)} | {Target(target, Divide(c.TokensPerSecond, theirs?.TokensPerSecond))} |"));
        }

        md.AppendLine();
        md.AppendLine("| precision | ours MoE / ours dense | theirs MoE / theirs dense | target (ours) |");
        md.AppendLine("|---|---:|---:|---|");
        foreach (var p in o.Precisions)
        {
            var (ourMoe, ourDense) = (Ours(r, "moe", p), Ours(r, "dense", p));
            var (theirMoe, theirDense) = (Theirs(r, "moe", p.Name(), "train"), Theirs(r, "dense", p.Name(), "train"));
            md.AppendLine($"| {p.Name()} | {Ratio(ourMoe, ourDense)} | {Ratio(theirMoe?.TokensPerSecond, theirDense?.TokensPerSecond)} | {Target(p == BenchPrecision.BFloat16 ? 1.5 : null, Divide(ourMoe, ourDense))} |");
        }

        if (r.Evals.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Evaluation forward (bf16 weights, no grad, B·T tokens per pass)");
            md.AppendLine();
            md.AppendLine("| model | ours tok/s | theirs tok/s | ours / theirs |");
            md.AppendLine("|---|---:|---:|---:|");
            foreach (var e in r.Evals)
            {
                var theirs = Theirs(r, e.Model, "bfloat16", "eval");
                md.AppendLine(e.Error is not null
                    ? $"| {e.Model} | failed: {Cell(e.Error)} | {Rate(theirs)} | |"
                    : Inv($"| {e.Model} | {e.TokensPerSecond:N0} | {Rate(theirs)} | {Ratio(e.TokensPerSecond, theirs?.TokensPerSecond)} |"));
            }
        }

        if (r.Generations.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(Inv($"## Generation (greedy, {o.GeneratePrompts} prompts, {o.GenerateNewTokens} new tokens, bf16, KV cache)"));
            md.AppendLine();
            md.AppendLine(Inv($"Same random prompts on both sides ({GenerationPrompts.MinLength}–{GenerationPrompts.MaxLength} tokens, left-padded, one batch), exactly {o.GenerateNewTokens} new tokens each, no stop tokens; one timed call after a warm-up call on {GenerationThroughput.WarmupPrompts} prompts. tok/s = prompts × new tokens / seconds (prefill included). Ours: BatchedGenerator; theirs: model.generate (do_sample=False, min/max_new_tokens, DynamicCache)."));
            md.AppendLine();
            md.AppendLine("| model | ours tok/s | ours s (prefill s) | theirs tok/s | ours / theirs |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var g in r.Generations)
            {
                var theirs = Theirs(r, g.Model, "bfloat16", "generate");
                md.AppendLine(g.Error is not null
                    ? $"| {g.Model} | failed: {Cell(g.Error)} | | {Rate(theirs)} | |"
                    : Inv($"| {g.Model} | {g.TokensPerSecond:N0} | {g.Seconds:F2} ({g.PrefillSeconds:F2}) | {Rate(theirs)} | {Ratio(g.TokensPerSecond, theirs?.TokensPerSecond)} |"));
            }
        }

        if (r.Profiles.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Where the time goes (ours; separate profiling pass, device synchronised between phases)");
            md.AppendLine();
            md.AppendLine("Hand-written copy of the trainer's step: forward = model + cross-entropy (+ balance loss), backward = loss.backward(), optimizer = grads→fp32 masters + clip + AdamW + masters→bf16 working copy. Trainer overhead = trainer ms/step − sum (host collation, host reads, metrics).");
            md.AppendLine();
            md.AppendLine("| model | precision | forward ms | backward ms | optimizer ms | sum ms | trainer ms/step | trainer overhead ms |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var p in r.Profiles)
            {
                var step = r.Training.FirstOrDefault(c => c.Model == p.Model && c.Precision == p.Precision && c.Error is null)?.StepMilliseconds;
                md.AppendLine(p.Error is not null
                    ? $"| {p.Model} | {p.Precision.Name()} | failed: {Cell(p.Error)} | | | | | |"
                    : Inv($"| {p.Model} | {p.Precision.Name()} | {p.ForwardMs:F1} | {p.BackwardMs:F1} | {p.OptimizerMs:F1} | {p.TotalMs:F1} | {(step is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "–")} | {(step is { } t ? (t - p.TotalMs).ToString("F1", CultureInfo.InvariantCulture) : "–")} |"));
            }
        }

        var extra = r.Baseline.Results.Where(h => h.Task == "train" && !IsPrimary(r, h)).ToList();
        if (extra.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Other baseline configurations");
            md.AppendLine();
            md.AppendLine("| model | precision | attention | experts | tok/s | ms/step |");
            md.AppendLine("|---|---|---|---|---:|---:|");
            foreach (var h in extra)
            {
                md.AppendLine(Inv($"| {h.Model} | {h.Precision} | {h.Attention} | {h.Experts} | {(h.Error is null ? h.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture) : "failed: " + Cell(h.Error))} | {h.StepMs:F1} |"));
            }
        }

        return md.ToString().ReplaceLineEndings("\n");
    }

    /// <summary>One JSON object per measured case, ours (<c>system: llamamoe</c>) then theirs as the script reported them.</summary>
    public static string JsonLines(SideBySideResults r)
    {
        var lines = new List<string>();
        foreach (var c in r.Training)
        {
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["system"] = "llamamoe", ["model"] = c.Model, ["precision"] = c.Precision.Name(), ["task"] = "train",
                ["tokens_per_second"] = c.TokensPerSecond, ["step_ms"] = c.StepMilliseconds,
                ["mfu"] = c.Error is null ? c.Flops / r.Peaks.BFloat16 : null, ["error"] = c.Error,
            }));
        }

        foreach (var e in r.Evals)
        {
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["system"] = "llamamoe", ["model"] = e.Model, ["precision"] = "bfloat16", ["task"] = "eval",
                ["tokens_per_second"] = e.TokensPerSecond, ["step_ms"] = e.TokensPerSecond > 0 ? 1000.0 * r.Options.Shape.TokensPerStep / e.TokensPerSecond : 0, ["error"] = e.Error,
            }));
        }

        foreach (var g in r.Generations)
        {
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["system"] = "llamamoe", ["model"] = g.Model, ["precision"] = "bfloat16", ["task"] = "generate", ["tokens_per_second"] = g.TokensPerSecond,
                ["step_ms"] = 1000.0 * g.Seconds / r.Options.GenerateNewTokens, ["batch"] = r.Options.GeneratePrompts, ["seq"] = r.Options.GenerateNewTokens, ["error"] = g.Error,
            }));
        }

        lines.AddRange(r.Baseline.Results.Select(h => JsonSerializer.Serialize(h, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })));
        return string.Join('\n', lines) + "\n";
    }

    private static double? Ours(SideBySideResults r, string model, BenchPrecision precision) =>
        r.Training.FirstOrDefault(c => c.Model == model && c.Precision == precision && c.Error is null)?.TokensPerSecond;

    /// <summary>The baseline row the ratios use: the first attention implementation given (and the script's first experts choice).</summary>
    private static HfResult? Theirs(SideBySideResults r, string model, string precision, string task) =>
        r.Baseline.Results.FirstOrDefault(h => h.Model == model && h.Precision == precision && h.Task == task && h.Attention == r.Options.BaselineAttention[0]);

    private static bool IsPrimary(SideBySideResults r, HfResult h) => ReferenceEquals(Theirs(r, h.Model, h.Precision, h.Task), h);

    private static string BaselineName(SideBySideResults r)
    {
        var first = r.Baseline.Results.FirstOrDefault(h => h.Versions is not null);
        var versions = first?.Versions is { } v ? string.Join(", ", v.Select(kv => $"{kv.Key} {kv.Value}")) : "versions unknown";
        var experts = r.Baseline.Results.FirstOrDefault(h => h.Model == "moe" && IsPrimary(r, h))?.Experts ?? "?";
        return $"stock LlamaForCausalLM / MixtralForCausalLM ({versions}), attn_implementation {r.Options.BaselineAttention[0]}, Mixtral experts_implementation {experts}, torch.optim.AdamW (foreach), bf16 = autocast";
    }

    private static string BaselineDevice(SideBySideResults r) =>
        r.Baseline.Results.FirstOrDefault(h => !string.IsNullOrEmpty(h.Device))?.Device is { } name ? $" ({name})" : string.Empty;

    private static string Rate(HfResult? h) => h is null ? "–" : h.Error is not null ? "failed: " + Cell(h.Error) : h.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture);

    private static double? Divide(double? ours, double? theirs) => ours is > 0 && theirs is > 0 ? ours.Value / theirs.Value : null;

    private static string Ratio(double? ours, double? theirs) =>
        Divide(ours, theirs) is { } ratio ? ratio.ToString("F2", CultureInfo.InvariantCulture) + "x" : "–";

    /// <summary>"≥ 1.50x met" / "≥ 1.50x not met" / "≥ 1.50x" (no ratio) / empty (no target).</summary>
    private static string Target(double? target, double? ratio) => target switch
    {
        null => string.Empty,
        { } t when ratio is { } x => Inv($"≥ {t:F2}x {(x >= t ? "met" : "not met")}"),
        { } t => Inv($"≥ {t:F2}x"),
    };

    private static string Pct(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static string Tf(double flops) => (flops / 1e12).ToString(flops < 1e12 ? "F3" : "F1", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace('|', '/').Replace('\n', ' ');

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
