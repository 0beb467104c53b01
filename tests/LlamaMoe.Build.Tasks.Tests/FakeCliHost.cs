using LlamaMoe.Testing;

namespace LlamaMoe.Build.Tasks.Tests;

/// <summary>
/// A stand-in for the <c>dotnet</c> host: a shell script that records the arguments it was started with, prints the
/// given lines on stdout and stderr, and exits with the given code. It lets the task's process handling, streaming,
/// diagnostic parsing and exit-code mapping run for real without the CLI.
/// </summary>
internal sealed class FakeCliHost : IDisposable
{
    private readonly TempDirectory folder = new("llamamoe-fakehost");

    public FakeCliHost(int exitCode, IEnumerable<string> stdout, IEnumerable<string>? stderr = null)
    {
        File.WriteAllLines(folder.Combine("stdout.txt"), stdout);
        File.WriteAllLines(folder.Combine("stderr.txt"), stderr ?? []);
        CliPath = folder.Combine("llama-moe.dll");
        File.WriteAllText(CliPath, "not a real assembly");
        PipelineFile = folder.Combine("recipe.yaml");
        File.WriteAllText(PipelineFile, "name: fake\n");
        HostPath = folder.Combine("dotnet");
        File.WriteAllText(HostPath, $"""
            #!/bin/sh
            dir="$(dirname "$0")"
            printf '%s\n' "$@" > "$dir/args.txt"
            cat "$dir/stdout.txt"
            cat "$dir/stderr.txt" >&2
            exit {exitCode}

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(HostPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string HostPath { get; }

    public string CliPath { get; }

    public string PipelineFile { get; }

    /// <summary>The arguments the host received, one per element, as the process saw them.</summary>
    public IReadOnlyList<string> ReceivedArguments => File.ReadAllLines(folder.Combine("args.txt"));

    public bool WasStarted => File.Exists(folder.Combine("args.txt"));

    public RunLlamaMoePipeline CreateTask(FakeBuildEngine engine) => new()
    {
        BuildEngine = engine,
        DotnetHostPath = HostPath,
        CliPath = CliPath,
        PipelineFile = PipelineFile,
    };

    public void Dispose() => folder.Dispose();
}
