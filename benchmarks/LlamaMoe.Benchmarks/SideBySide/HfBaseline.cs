using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>One JSON line of benchmarks/hf_baseline.py.</summary>
/// <param name="System">Always <c>hf-transformers</c>.</param>
/// <param name="Model"><c>dense</c> (LlamaForCausalLM) or <c>moe</c> (MixtralForCausalLM).</param>
/// <param name="Precision"><c>float32</c>, <c>tf32</c> or <c>bfloat16</c>.</param>
/// <param name="Task"><c>train</c>, <c>eval</c> or <c>generate</c>.</param>
/// <param name="TokensPerSecond">B·T tokens per second over the timed steps; for <c>generate</c>, prompts × new tokens per second (0 when it failed).</param>
/// <param name="StepMs">Mean wall milliseconds per timed step (for <c>generate</c>, per new token).</param>
/// <param name="Attention">The attn_implementation.</param>
/// <param name="Experts">The experts_implementation in use (<c>-</c> for dense).</param>
/// <param name="Device">The device name.</param>
/// <param name="Versions">torch, transformers and Python versions.</param>
/// <param name="Error">Why the case failed, or null.</param>
public sealed record HfResult(
    string System, string Model, string Precision, string Task, double TokensPerSecond, double StepMs, string Attention, string Experts,
    string? Device, IReadOnlyDictionary<string, string>? Versions, string? Error);

/// <summary>What the baseline run produced: its results, or why there are none.</summary>
/// <param name="Results">The parsed lines.</param>
/// <param name="Note">Why the baseline did not run or did not finish, or null.</param>
public sealed record HfBaselineRun(IReadOnlyList<HfResult> Results, string? Note);

/// <summary>
/// Runs benchmarks/hf_baseline.py as a child process with the same shape, steps and precisions, streams its progress
/// (stderr) to the log, and parses its JSON lines (stdout). It runs before our cases, so its GPU memory is back with the
/// driver (the process has exited) before the first TorchSharp tensor is allocated.
/// </summary>
public static class HfBaseline
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowReadingFromString };

    /// <summary>
    /// The script to run: <see cref="SideBySideOptions.BaselineScript"/> when given, else hf_baseline.py next to this
    /// executable (the publish output carries it), else benchmarks/hf_baseline.py in the current folder or a parent.
    /// </summary>
    public static string? FindScript(SideBySideOptions options)
    {
        if (options.BaselineScript is not null)
        {
            return File.Exists(options.BaselineScript) ? Path.GetFullPath(options.BaselineScript) : null;
        }

        var beside = Path.Combine(AppContext.BaseDirectory, "hf_baseline.py");
        if (File.Exists(beside))
        {
            return beside;
        }

        for (var folder = new DirectoryInfo(Environment.CurrentDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "benchmarks", "hf_baseline.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The script's arguments for <paramref name="options"/>; with <paramref name="promptsFile"/> it also times generation of those prompts.</summary>
    public static IReadOnlyList<string> Arguments(string script, SideBySideOptions options, string? promptsFile = null)
    {
        var arguments = new List<string>
        {
            script, "--shape", options.Shape.Name, "--device", options.Device, "--steps", Invariant(options.Steps), "--warmup", Invariant(options.Warmup),
            "--models", string.Join(',', options.Models), "--precisions", string.Join(',', options.Precisions.Select(p => p.Name())),
            "--attn", string.Join(',', options.BaselineAttention),
        };
        if (!options.Eval)
        {
            arguments.Add("--no-eval");
        }

        if (promptsFile is not null)
        {
            arguments.AddRange(["--generate-prompts", promptsFile, "--generate-new-tokens", Invariant(options.GenerateNewTokens)]);
        }

        return arguments;
    }

    /// <summary>Runs the script (when found) and collects its results; never throws for a missing Python or a failing script.</summary>
    /// <param name="options">The settings.</param>
    /// <param name="log">Progress (the script's stderr).</param>
    /// <param name="promptsFile">The generation prompts file (<see cref="GenerationPrompts.Write"/>), or null for no generation.</param>
    public static HfBaselineRun Run(SideBySideOptions options, TextWriter log, string? promptsFile = null)
    {
        var script = FindScript(options);
        if (script is null)
        {
            return new HfBaselineRun([], options.BaselineScript is null
                ? "hf_baseline.py not found (pass --hf-baseline PATH)"
                : $"hf_baseline.py not found at '{options.BaselineScript}'");
        }

        var start = new ProcessStartInfo(options.Python) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in Arguments(script, options, promptsFile))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("GLIBC_TUNABLES"); // the baseline runs in Python's stock environment
        start.Environment["PYTHONUNBUFFERED"] = "1";
        var results = new List<HfResult>();
        var lastError = string.Empty;
        try
        {
            log.WriteLine($"running the baseline: {options.Python} {string.Join(' ', start.ArgumentList)}");
            using var process = Process.Start(start)!;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    lastError = line;
                    log.WriteLine(line);
                }
            };
            process.BeginErrorReadLine();
            while (process.StandardOutput.ReadLine() is { } line)
            {
                if (line.StartsWith('{') && Parse(line) is { } result)
                {
                    results.Add(result);
                }
            }

            process.WaitForExit();
            return new HfBaselineRun(results, process.ExitCode == 0 ? null : $"the baseline exited with code {process.ExitCode}: {lastError}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new HfBaselineRun(results, $"cannot start '{options.Python}' ({ex.Message}); pass --python PATH");
        }
    }

    /// <summary>Parses one JSON line, or returns null when it is not a result line.</summary>
    public static HfResult? Parse(string line)
    {
        try
        {
            var result = JsonSerializer.Deserialize<HfResult>(line, Json);
            return result is { System.Length: > 0, Model.Length: > 0, Precision.Length: > 0 } ? result with { Task = result.Task ?? "train" } : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
