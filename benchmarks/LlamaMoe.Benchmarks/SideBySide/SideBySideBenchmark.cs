using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlamaMoe.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>
/// <c>--only side-by-side</c>: in one invocation, on one device, (1) the Hugging Face baseline script as a child process,
/// (2) the bf16, float32 and TF32 matmul peaks, (3) our Trainer on the dense model and its MoE in every precision,
/// (4) a phase-profiling pass per case, (5) bf16 evaluation forward throughput, (6) bf16 greedy generation throughput on
/// the same prompts (<see cref="GenerationThroughput"/>, hf_generate.py); then a side-by-side markdown report
/// (console, and <c>--out</c>) and JSON lines (<c>--json</c>). A failing case is reported as failed, never skipped silently.
/// </summary>
public static class SideBySideBenchmark
{
    /// <summary>Parses <paramref name="args"/>, runs, prints the report; returns the exit code (2 usage, 1 no device).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter log)
    {
        var options = SideBySideOptions.Parse(args, log);
        if (options is null)
        {
            return 2;
        }

        TorchRuntime.EnsureLoaded();
        var device = OpenDevice(options.Device, log);
        if (device is null)
        {
            return 1;
        }

        torch.set_num_threads(options.Threads);
        log.WriteLine($"side-by-side on {options.Device}, shape {options.Shape.Describe()}, {options.Steps} steps after {options.Warmup} warm-up");
        var work = Path.Combine(Path.GetTempPath(), $"llamamoe-side-by-side-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var prompts = options.Generate ? GenerationPrompts.Create(options.GeneratePrompts, options.GenerateNewTokens, options.Shape.Vocabulary) : null;
            var promptsFile = prompts is null ? null : Path.Combine(work, "generate-prompts.json");
            prompts?.Write(promptsFile!);
            var baseline = options.SkipBaseline ? new HfBaselineRun([], "not run (--no-hf)") : Timed(log, "baseline", () => HfBaseline.Run(options, log, promptsFile));
            var peaks = Timed(log, "matmul peaks", () => MeasurePeaks(options.Shape.MatmulSize, device));
            var models = Timed(log, "building the dense model and its MoE", () => SideBySideModels.Build(options.Shape, Path.Combine(work, "models")));
            var training = new List<TrainingCaseResult>();
            var profiles = new List<PhaseProfile>();
            var evals = new List<EvalResult>();
            var generations = new List<GenerationResult>();
            foreach (var name in options.Models)
            {
                foreach (var precision in options.Precisions)
                {
                    var result = Timed(log, $"training {name} {precision.Name()}", () =>
                        TrainerThroughput.Measure(models, name, precision, device, options.Warmup, options.Steps, Path.Combine(work, $"train-{name}-{precision.Name()}")));
                    log.WriteLine(result.Error ?? Inv($"  {result.TokensPerSecond:N0} tok/s, {result.StepMilliseconds:F1} ms/step, MFU {result.Flops / peaks.BFloat16:P1}"));
                    training.Add(result);
                    if (options.ProfileSteps > 0)
                    {
                        var profile = Timed(log, $"profiling {name} {precision.Name()}", () => PhaseProfiler.Profile(models, name, precision, device, options.ProfileSteps));
                        log.WriteLine(profile.Error ?? Inv($"  forward {profile.ForwardMs:F1} ms, backward {profile.BackwardMs:F1} ms, optimizer {profile.OptimizerMs:F1} ms"));
                        profiles.Add(profile);
                    }
                }

                if (options.Eval)
                {
                    var eval = Timed(log, $"evaluation forward {name} bf16", () => PhaseProfiler.Evaluate(models, name, device, options.Steps));
                    log.WriteLine(eval.Error ?? Inv($"  {eval.TokensPerSecond:N0} tok/s"));
                    evals.Add(eval);
                }

                if (prompts is not null)
                {
                    var generation = Timed(log, $"generation {name} bf16, {prompts.Count} prompts x {prompts.NewTokens} tokens", () => GenerationThroughput.Measure(models, name, device, prompts));
                    log.WriteLine(generation.Error ?? Inv($"  {generation.TokensPerSecond:N0} tok/s ({generation.Seconds:F2} s, prefill {generation.PrefillSeconds:F2} s)"));
                    generations.Add(generation);
                }
            }

            var results = new SideBySideResults(options, peaks, training, profiles, evals, generations, baseline);
            var markdown = SideBySideReport.Markdown(results);
            output.Write(markdown);
            if (options.OutFile is not null)
            {
                WriteAtomically(options.OutFile, markdown);
                log.WriteLine($"wrote {options.OutFile}");
            }

            if (options.JsonFile is not null)
            {
                WriteAtomically(options.JsonFile, SideBySideReport.JsonLines(results));
                log.WriteLine($"wrote {options.JsonFile}");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Measures the bf16, float32 (TF32 off) and TF32 n³ matmul FLOP/s on <paramref name="device"/>: the best of three
    /// timings of 10 back-to-back matmuls each (a peak; the best also discounts other load on a shared CPU).
    /// </summary>
    public static MatmulPeaks MeasurePeaks(int n, Device device)
    {
        double Measure(BenchPrecision precision)
        {
            using var tf32 = precision.Apply(device);
            return Enumerable.Range(0, 3).Max(_ => MatmulPeakBenchmark.MeasureFlopsOn(device, n, precision.MatmulType(), 10));
        }

        var bf16 = Measure(BenchPrecision.BFloat16);
        var f32 = Measure(BenchPrecision.Float32);
        var tf32 = device.type == DeviceType.CUDA ? Measure(BenchPrecision.TF32) : f32;
        return new MatmulPeaks(bf16, f32, tf32, n);
    }

    private static Device? OpenDevice(string name, TextWriter log)
    {
        if (name == "cpu")
        {
            return CPU;
        }

        try
        {
            torch.InitializeDeviceType(DeviceType.CUDA);
            if (torch.cuda.is_available())
            {
                return CUDA;
            }

            log.WriteLine("CUDA is not available to TorchSharp (no GPU, or the loaded libtorch is a CPU build).");
        }
        catch (Exception ex) when (ex is NotSupportedException or DllNotFoundException or InvalidOperationException or TypeInitializationException)
        {
            log.WriteLine($"cannot load TorchSharp's CUDA backend: {ex.Message}");
        }

        log.WriteLine("Point LD_LIBRARY_PATH at a CUDA libtorch (for example PyTorch's: python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+\"/lib\")') and remove the CPU libtorch files from the publish folder (docs: gpu-notes.md).");
        return null;
    }

    private static T Timed<T>(TextWriter log, string what, Func<T> action)
    {
        log.WriteLine($"{what} ...");
        var watch = Stopwatch.StartNew();
        var result = action();
        log.WriteLine(Inv($"{what}: {watch.Elapsed.TotalSeconds:F1} s"));
        return result;
    }

    private static void WriteAtomically(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, full, overwrite: true);
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
