using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Services;
using LlamaMoe.Plugins.Training.External;
using LlamaMoe.Testing;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// A whole pipeline (import stories260K → split → router → build-moe → train with an external executor) run by the
/// in-process engine, with the real python/llamamoe_hf copied into the bundle and <c>LLAMAMOE_TRAINER_COMMAND</c> set to its
/// torch-free fake trainer. Environment knobs are set for the fixture's lifetime and restored on dispose.
/// </summary>
internal sealed class ExternalPipelineFixture : IDisposable
{
    private readonly Dictionary<string, string?> previous = [];

    public ExternalPipelineFixture()
    {
        if (!HasPython3())
        {
            Assert.Ignore("python3 is not on PATH: the fake trainer cannot run");
        }

        Temp = new TempDirectory("llamamoe-external");
        Set(PythonPackageLocator.EnvironmentVariable, Path.Combine(RepositoryPaths.Root, "python", "llamamoe_hf"));
        Set("LLAMAMOE_TRAINER_COMMAND", "python3 -m llamamoe_hf.fake_train");
        Set("LLAMAMOE_FAKE_STEP_SECONDS", "0.05");
    }

    public TempDirectory Temp { get; }

    /// <summary>The output URI the trainer writes run-&lt;key12&gt;/ into.</summary>
    public string Output => Temp.Combine("output");

    /// <summary>The trainer's run folder (once it exists).</summary>
    public string RunDirectory => Directory.GetDirectories(Output, "run-*").Single();

    /// <summary>Log lines of the last run, in order.</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>Sets an environment variable for the fixture's lifetime (null removes it).</summary>
    public void Set(string name, string? value)
    {
        previous.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    /// <summary>The pipeline text with <paramref name="executor"/> as the body of the train stage's executor mapping.</summary>
    public string Pipeline(string executor, int maxSteps = 4) => $$"""
        name: external
        stages:
        {{PluginFixtures.SequentialStoriesMoeStages}}
          tune:
            uses: train
            needs: [moe]
            with:
              sources: [ { path: {{Quote(SharedData.TinyStoriesValid)}}, first: 1, count: 24 } ]
              seq-len: 48
              batch-size: 4
              grad-accum: 2
              max-steps: {{maxSteps}}
              checkpoint-every: 2
              executor: { {{executor}}, storage: { output-uri: {{Quote(Output)}} } }
        """;

    /// <summary>Runs the pipeline in process; returns the outcomes.</summary>
    public async Task<IReadOnlyList<StageOutcome>> RunAsync(string yaml, CancellationToken cancellationToken = default)
    {
        File.WriteAllText(Temp.Combine("pipeline.yaml"), yaml);
        var pipeline = PipelineLoader.Load(Temp.Combine("pipeline.yaml"), new PipelineLoadSettings()).EnsureValid();
        await using var services = new ServiceCollection().AddLlamaMoePipeline(pipeline, new LogObserver(Logs)).BuildServiceProvider();
        return await new PipelineRunner(pipeline, services).RunAsync(cancellationToken: cancellationToken);
    }

    /// <summary>The published train artifact.</summary>
    public string Artifact => Temp.Combine("artifacts", "external", "tune");

    /// <summary>The events of the run folder, in order.</summary>
    public IReadOnlyList<JsonObject> Events() =>
        File.ReadAllLines(Path.Combine(RunDirectory, "events.jsonl")).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    /// <summary>Waits until the trainer wrote a progress line at or past <paramref name="step"/>.</summary>
    public async Task WaitForStepAsync(int step, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            var progress = Directory.Exists(Output) ? Directory.GetFiles(Output, "progress.jsonl", SearchOption.AllDirectories).SingleOrDefault() : null;
            if (progress is not null && ReadLines(progress).Any(l => (int?)JsonNode.Parse(l)?["step"] >= step))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the trainer did not reach step {step} within {timeout.TotalSeconds:0} s");
    }

    /// <summary>The trainer's pid from its start event ("pid N").</summary>
    public int TrainerPid() =>
        int.Parse(Events().First(e => (string?)e["event"] == "start")["message"]!.GetValue<string>().Split("pid ")[1], System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        foreach (var (name, value) in previous)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        if (!OperatingSystem.IsWindows() && Directory.Exists(Temp.Path))
        {
            foreach (var file in Directory.EnumerateFiles(Temp.Path, "*", SearchOption.AllDirectories))
            {
                File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.UserWrite);
            }
        }

        Temp.Dispose();
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.EndsWith('}'))
            {
                lines.Add(line);
            }
        }

        return lines;
    }

    private static bool HasPython3()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("python3", "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            process!.WaitForExit(10_000);
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private sealed class LogObserver(ConcurrentQueue<string> logs) : IPipelineRunObserver
    {
        public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons)
        {
        }

        public void StageProgress(string stageId, StepProgressUpdate update)
        {
        }

        public void StageLog(string stageId, bool warning, string message) => logs.Enqueue(message);

        public void StageFinished(StageOutcome outcome)
        {
        }
    }
}
