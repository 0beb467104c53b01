namespace LlamaMoe.Plugins.Evaluation;

/// <summary>Resource limits of one sandboxed program run.</summary>
/// <param name="Timeout">Wall-clock limit; the whole process group is killed when it passes.</param>
/// <param name="MemoryBytes">Address-space limit (RLIMIT_AS).</param>
/// <param name="FileSizeBytes">Largest file the program may write (RLIMIT_FSIZE).</param>
/// <param name="MaxProcesses">Processes of the sandbox user (RLIMIT_NPROC; enforced because the user is unprivileged).</param>
/// <param name="MaxOpenFiles">Open file descriptors (RLIMIT_NOFILE).</param>
/// <param name="TempBytes">Size of the private tmpfs that is the sandbox's <c>/tmp</c> and <c>/dev/shm</c> together (all files, not per file).</param>
public sealed record SandboxLimits(TimeSpan Timeout, long MemoryBytes = 1L << 30, long FileSizeBytes = 16L << 20, int MaxProcesses = 64, int MaxOpenFiles = 64, long TempBytes = 64L << 20)
{
    /// <summary>The defaults of HumanEval/MBPP execution: 10 s, 1 GiB, 64 MiB of temporary files.</summary>
    public static SandboxLimits Default { get; } = new(TimeSpan.FromSeconds(10));
}

/// <summary>How a sandboxed run ended.</summary>
public enum SandboxOutcome
{
    /// <summary>The program ran to its end: exit code 0 and the harness's completion marker, written after the last statement, was seen.</summary>
    Passed,

    /// <summary>A non-zero exit code, a signal, or an exit before the end of the program (no completion marker, e.g. <c>os._exit(0)</c> before the asserts).</summary>
    Failed,

    /// <summary>Killed after the timeout.</summary>
    TimedOut,
}

/// <summary>The result of one sandboxed run (output truncated to 64 KiB per stream; the completion marker is removed from <see cref="Stdout"/>).</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="ExitCode">The exit code (−1 after a timeout).</param>
/// <param name="Stdout">Standard output.</param>
/// <param name="Stderr">Standard error.</param>
public sealed record SandboxRun(SandboxOutcome Outcome, int ExitCode, string Stdout, string Stderr);
