using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Runs untrusted Python (HumanEval/MBPP completions) in a separate <c>python3 -I -B</c> process that is confined:
/// resource limits set with <c>prlimit</c> (CPU, address space, file size, processes, open files), an unprivileged
/// user (uid/gid 65534 through <c>setpriv</c> when we are root; our own unprivileged uid otherwise), fresh user,
/// mount, PID and network namespaces (<c>unshare</c>; the network namespace has no interface but loopback, which is
/// down), an empty environment, a private session whose whole process group is killed on timeout. Use
/// <see cref="Probe"/> first: when any part is unavailable the caller must skip, never run unconfined.
/// </summary>
public sealed class PythonSandbox
{
    private const int OutputLimit = 64 * 1024;
    private const int NobodyId = 65534;

    private PythonSandbox(string pythonPath, bool dropPrivileges)
    {
        PythonPath = pythonPath;
        DropsPrivileges = dropPrivileges;
    }

    /// <summary>The interpreter used.</summary>
    public string PythonPath { get; }

    /// <summary>Whether the sandbox switches to uid 65534 (we run as root).</summary>
    public bool DropsPrivileges { get; }

    /// <summary>
    /// Finds a usable interpreter and checks that the confinement works (a probe program runs inside it). Returns the
    /// sandbox, or null with <paramref name="skipReason"/> set to <c>"skipped: python3 not found"</c> or
    /// <c>"skipped: no sandbox (…)"</c>.
    /// </summary>
    public static PythonSandbox? Probe(out string? skipReason, string? pythonPath = null)
    {
        skipReason = null;
        if (!OperatingSystem.IsLinux())
        {
            skipReason = "skipped: no sandbox (namespaces need Linux)";
            return null;
        }

        foreach (var tool in new[] { "unshare", "prlimit", "setsid" })
        {
            if (FindOnPath(tool) is null)
            {
                skipReason = $"skipped: no sandbox ({tool} not found)";
                return null;
            }
        }

        var root = Environment.UserName == "root" || GetEuid() == 0;
        if (root && FindOnPath("setpriv") is null)
        {
            skipReason = "skipped: no sandbox (setpriv not found, cannot drop root)";
            return null;
        }

        var candidates = pythonPath is not null ? [pythonPath] : PythonCandidates().ToList();
        if (candidates.Count == 0)
        {
            skipReason = "skipped: python3 not found";
            return null;
        }

        string? lastError = null;
        foreach (var candidate in candidates)
        {
            var sandbox = new PythonSandbox(candidate, root);
            var run = sandbox.Run("print(6 * 7)", new SandboxLimits(TimeSpan.FromSeconds(20)));
            if (run.Outcome == SandboxOutcome.Passed && run.Stdout.Trim() == "42")
            {
                return sandbox;
            }

            lastError = $"{candidate}: exit {run.ExitCode}: {run.Stderr.Trim().Split('\n').LastOrDefault()}";
        }

        skipReason = $"skipped: no sandbox ({lastError})";
        return null;
    }

    /// <summary>Runs <paramref name="program"/> confined under <paramref name="limits"/>.</summary>
    public SandboxRun Run(string program, SandboxLimits limits)
    {
        var folder = Path.Combine(Path.GetTempPath(), "llamamoe-sandbox-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var script = Path.Combine(folder, "program.py");
            File.WriteAllText(script, program, new UTF8Encoding(false));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            return Execute(script, folder, limits);
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // left for the temp cleaner
            }
        }
    }

    private SandboxRun Execute(string script, string folder, SandboxLimits limits)
    {
        var info = new ProcessStartInfo("setsid") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        var cpuSeconds = (long)Math.Ceiling(limits.Timeout.TotalSeconds) + 1;
        string[] arguments =
        [
            "prlimit", $"--cpu={cpuSeconds}", $"--as={limits.MemoryBytes}", $"--fsize={limits.FileSizeBytes}", $"--nproc={limits.MaxProcesses}", $"--nofile={limits.MaxOpenFiles}", "--core=0", "--",
            .. DropsPrivileges ? (string[])["setpriv", $"--reuid={NobodyId}", $"--regid={NobodyId}", "--clear-groups", "--inh-caps=-all", "--"] : [],
            "unshare", "--user", "--net", "--mount", "--pid", "--fork", "--kill-child", "--",
            PythonPath, "-I", "-B", script,
        ];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin";
        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["HOME"] = folder;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("setsid could not be started");
        process.StandardInput.Close();
        var stdout = ReadLimited(process.StandardOutput);
        var stderr = ReadLimited(process.StandardError);
        var exited = process.WaitForExit(limits.Timeout);
        if (!exited)
        {
            KillGroup(process);
        }

        process.WaitForExit();
        var (output, error) = (stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        return !exited
            ? new SandboxRun(SandboxOutcome.TimedOut, -1, output, error)
            : new SandboxRun(process.ExitCode == 0 ? SandboxOutcome.Passed : SandboxOutcome.Failed, process.ExitCode, output, error);
    }

    private static void KillGroup(Process process)
    {
        // setsid made the child a session and process-group leader: signal the whole group, then the tree.
        _ = Kill(-process.Id, 9);
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static async Task<string> ReadLimited(StreamReader reader)
    {
        var buffer = new char[8192];
        var text = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory()).ConfigureAwait(false)) > 0)
        {
            if (text.Length < OutputLimit)
            {
                text.Append(buffer, 0, Math.Min(read, OutputLimit - text.Length));
            }
        }

        return text.ToString();
    }

    private static IEnumerable<string> PythonCandidates()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var paths = new[] { "/usr/bin/python3", "/usr/local/bin/python3" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "python3")));
        foreach (var path in paths)
        {
            if (File.Exists(path) && seen.Add(Path.GetFullPath(path)))
            {
                yield return path;
            }
        }
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") + ":/usr/bin:/bin:/usr/sbin:/sbin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
