using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace LlamaMoe.Plugins.Evaluation;

/// <summary>
/// Runs untrusted Python (HumanEval/MBPP completions) in a separate <c>python3 -I -B</c> process that is confined:
/// <list type="bullet">
/// <item>resource limits set with <c>prlimit</c> (CPU, address space, file size, processes, open files, no core);</item>
/// <item>fresh user, mount, PID and network namespaces (<c>unshare</c>); the network namespace has only loopback, which is down;</item>
/// <item>a new root (<c>pivot_root</c> onto a read-only tmpfs, the host root unmounted) holding read-only binds of <c>/usr</c>
/// (and <c>/bin</c>, <c>/lib</c>, <c>/lib64</c>, <c>/sbin</c> where they are not links into it), of the interpreter's prefix
/// when it lies elsewhere, of the program's own folder at <c>/sandbox</c>, the device nodes null, zero, full, random and urandom,
/// one private size-capped tmpfs as <c>/tmp</c> and <c>/dev/shm</c>, and a <c>/proc</c> of the new PID namespace: no host
/// file, socket or process is reachable;</item>
/// <item>an unprivileged user: uid/gid 65534 on the host (<c>setpriv</c> when we are root; our own uid otherwise), uid 65534 inside,
/// no capabilities, <c>no_new_privs</c>;</item>
/// <item>death with its parent: <c>PR_SET_PDEATHSIG</c>=SIGKILL on the namespace launcher (<c>setpriv --pdeathsig</c>) and on the
/// sandboxed program (<c>unshare --kill-child</c>), which is PID 1 of its namespace, so all it started dies with it;</item>
/// <item>an empty environment and a private session whose whole process group is killed on timeout;</item>
/// <item>a pass only from a random completion marker the harness writes after the program's last statement, read from stdin
/// (not from the program file), so an early <c>os._exit(0)</c> or <c>sys.exit(0)</c> fails.</item>
/// </list>
/// Use <see cref="Probe"/> first: when any part is unavailable the caller must skip, never run unconfined.
/// </summary>
/// <remarks>
/// The parent-death signal is tied to the thread that started the process: <see cref="Run"/> starts and waits on the same thread.
/// The marker defends against programs that end early, not against code that deliberately searches the harness's memory for it.
/// </remarks>
public sealed class PythonSandbox
{
    private const int OutputLimit = 64 * 1024;
    private const int TailLength = 256;
    private const int NobodyId = 65534;
    private const string MarkerPrefix = "LLAMAMOE-SANDBOX-COMPLETE ";

    /// <summary>
    /// Run by <c>/bin/sh</c> as root of the fresh user namespace (host uid 65534 or ours), PID 1 of the fresh PID namespace,
    /// in the fresh mount and network namespaces. Arguments: the job folder, the interpreter, the tmpfs size in bytes, then
    /// extra host folders to bind read-only (the interpreter's prefixes outside /usr). Any failing step ends the run.
    /// </summary>
    private const string SetupScript = """
        set -eu
        export PATH=/usr/sbin:/usr/bin:/sbin:/bin
        job=$1; python=$2; tmpsize=$3; shift 3
        root=$job/root
        mount --make-rprivate /
        mount -t tmpfs -o size=1m,nr_inodes=256,mode=0755 sandbox-root "$root"
        ro_bind() {
          mkdir -p "$root$2"
          mount --rbind "$1" "$root$2"
          mount -o remount,bind,ro,nosuid,nodev "$root$2"
        }
        ro_bind /usr /usr
        for d in /bin /lib /lib64 /sbin; do
          if [ -L "$d" ]; then ln -s "$(readlink "$d")" "$root$d"; elif [ -d "$d" ]; then ro_bind "$d" "$d"; fi
        done
        for p in "$@"; do [ -e "$root$p" ] || ro_bind "$p" "$p"; done
        ro_bind "$job/files" /sandbox
        mkdir "$root/tmp" "$root/dev" "$root/proc"
        mount -t tmpfs -o "size=$tmpsize,nr_inodes=4096,mode=1777,nosuid,nodev" sandbox-tmp "$root/tmp"
        mkdir "$root/dev/shm"
        mount --bind "$root/tmp" "$root/dev/shm"
        for n in null zero full random urandom; do
          touch "$root/dev/$n"
          mount --bind "/dev/$n" "$root/dev/$n"
        done
        mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
        cd "$root"
        mkdir .oldroot
        pivot_root . .oldroot
        umount -l /.oldroot
        rmdir /.oldroot
        mount -o remount,bind,ro /
        cd /tmp
        exec unshare --user --map-user=65534 --map-group=65534 -- setpriv --no-new-privs -- "$python" -I -B /sandbox/harness.py
        """;

    /// <summary>
    /// Runs the program file as <c>__main__</c>, then writes the marker (read from stdin before the program runs) directly to
    /// fd 1 and exits at once, so nothing the program registered can run after it.
    /// </summary>
    private const string Harness = """
        import os, runpy, sys

        def _sandbox_main():
            marker = sys.stdin.readline().strip()
            sys.stdin.close()
            sys.stdin = open(os.devnull)
            runpy.run_path('/sandbox/program.py', run_name='__main__')
            sys.stdout.flush()
            sys.stderr.flush()
            os.write(1, ('\n' + marker + '\n').encode('ascii'))
            os._exit(0)

        _sandbox_main()
        """;

    private readonly string[] extraReadOnly;

    private PythonSandbox(string pythonPath, bool dropPrivileges, string[] extraReadOnly)
    {
        PythonPath = pythonPath;
        DropsPrivileges = dropPrivileges;
        this.extraReadOnly = extraReadOnly;
    }

    /// <summary>The interpreter used.</summary>
    public string PythonPath { get; }

    /// <summary>Whether the sandbox switches to uid 65534 on the host (we run as root).</summary>
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

        foreach (var tool in new[] { "unshare", "prlimit", "setsid", "setpriv", "mount", "umount", "pivot_root", "sh" })
        {
            if (FindOnPath(tool) is null)
            {
                skipReason = $"skipped: no sandbox ({tool} not found)";
                return null;
            }
        }

        var root = GetEuid() == 0;
        var candidates = (pythonPath is not null ? [pythonPath] : PythonCandidates()).Where(File.Exists).ToList();
        if (candidates.Count == 0)
        {
            skipReason = "skipped: python3 not found";
            return null;
        }

        string? lastError = null;
        foreach (var candidate in candidates)
        {
            var real = RealPath(candidate);
            var sandbox = new PythonSandbox(real, root, Prefixes(real).Where(p => !IsUnder(p, "/usr")).ToArray());
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

    /// <summary>
    /// Runs <paramref name="program"/> confined under <paramref name="limits"/>; <see cref="SandboxOutcome.Passed"/> only when it
    /// ran to its end and exited 0.
    /// </summary>
    public SandboxRun Run(string program, SandboxLimits limits)
    {
        using var prepared = Prepare(program, limits);
        using var process = Process.Start(prepared.StartInfo) ?? throw new InvalidOperationException("setsid could not be started");
        return Complete(process, prepared.Marker, limits);
    }

    /// <summary>Writes the job folder (program, harness, setup script, new-root mount point) and the command line that runs it.</summary>
    internal PreparedRun Prepare(string program, SandboxLimits limits)
    {
        var folder = Path.Combine(Path.GetTempPath(), "llamamoe-sandbox-" + Guid.NewGuid().ToString("N"));
        var files = Path.Combine(folder, "files");
        var setup = Path.Combine(folder, "setup.sh");
        try
        {
            Directory.CreateDirectory(files);
            Directory.CreateDirectory(Path.Combine(folder, "root"));
            var utf8 = new UTF8Encoding(false);
            File.WriteAllText(Path.Combine(files, "program.py"), program, utf8);
            File.WriteAllText(Path.Combine(files, "harness.py"), Harness.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n", utf8);
            File.WriteAllText(setup, SetupScript.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n", utf8);
            const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            if (OperatingSystem.IsLinux())
            {
                foreach (var dir in new[] { folder, files, Path.Combine(folder, "root") })
                {
                    File.SetUnixFileMode(dir, Folder);
                }

                foreach (var file in new[] { setup, Path.Combine(files, "program.py"), Path.Combine(files, "harness.py") })
                {
                    File.SetUnixFileMode(file, Readable);
                }
            }
        }
        catch
        {
            PreparedRun.DeleteFolder(folder);
            throw;
        }

        var info = new ProcessStartInfo("setsid") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        var cpuSeconds = (long)Math.Ceiling(limits.Timeout.TotalSeconds) + 1;
        string[] arguments =
        [
            "prlimit", $"--cpu={cpuSeconds}", $"--as={limits.MemoryBytes}", $"--fsize={limits.FileSizeBytes}", $"--nproc={limits.MaxProcesses}", $"--nofile={limits.MaxOpenFiles}", "--core=0", "--",
            "setpriv", "--pdeathsig=KILL",
            .. DropsPrivileges ? (string[])[$"--reuid={NobodyId}", $"--regid={NobodyId}", "--clear-groups", "--inh-caps=-all"] : [],
            "--",
            "unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child", "--",
            "/bin/sh", setup, folder, PythonPath, limits.TempBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. extraReadOnly,
        ];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin";
        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["HOME"] = "/tmp";
        return new PreparedRun(folder, MarkerPrefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), info);
    }

    private static SandboxRun Complete(Process process, string marker, SandboxLimits limits)
    {
        var stdout = ReadLimited(process.StandardOutput);
        var stderr = ReadLimited(process.StandardError);
        try
        {
            process.StandardInput.Write(marker + "\n");
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // the sandbox ended before reading its marker; it cannot pass
        }

        var exited = process.WaitForExit(limits.Timeout);
        if (!exited)
        {
            KillGroup(process);
        }

        process.WaitForExit();
        var (output, outputTail) = stdout.GetAwaiter().GetResult();
        var error = stderr.GetAwaiter().GetResult().Text;
        if (!exited)
        {
            return new SandboxRun(SandboxOutcome.TimedOut, -1, output, error);
        }

        var line = "\n" + marker + "\n";
        var completed = outputTail.EndsWith(line, StringComparison.Ordinal);
        if (completed && output.EndsWith(line, StringComparison.Ordinal))
        {
            output = output[..^line.Length];
        }

        return new SandboxRun(process.ExitCode == 0 && completed ? SandboxOutcome.Passed : SandboxOutcome.Failed, process.ExitCode, output, error);
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

    /// <summary>Reads a stream to its end, keeping its first 64 KiB and, separately, its last characters (where the marker is).</summary>
    private static async Task<(string Text, string Tail)> ReadLimited(StreamReader reader)
    {
        var buffer = new char[8192];
        var text = new StringBuilder();
        var tail = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory()).ConfigureAwait(false)) > 0)
        {
            if (text.Length < OutputLimit)
            {
                text.Append(buffer, 0, Math.Min(read, OutputLimit - text.Length));
            }

            tail.Append(buffer, 0, read);
            if (tail.Length > 2 * TailLength)
            {
                tail.Remove(0, tail.Length - TailLength);
            }
        }

        return (text.ToString(), tail.ToString());
    }

    /// <summary>The interpreter's <c>sys.prefix</c> and <c>sys.base_prefix</c> (asked of the trusted interpreter, no program involved).</summary>
    private static IEnumerable<string> Prefixes(string python)
    {
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-I", "-c", "import sys; print(sys.prefix); print(sys.base_prefix)" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info);
        if (process is null)
        {
            return [];
        }

        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode != 0
            ? []
            : output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(Path.IsPathRooted).Select(RealPath).Distinct(StringComparer.Ordinal).ToList();
    }

    private static bool IsUnder(string path, string folder) =>
        path == folder || path.StartsWith(folder + "/", StringComparison.Ordinal);

    /// <summary>The canonical absolute path (every link resolved), as libc <c>realpath</c> gives it; the path itself when that fails.</summary>
    private static string RealPath(string path)
    {
        var resolved = NativeRealPath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return Path.GetFullPath(path);
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved) ?? Path.GetFullPath(path);
        }
        finally
        {
            Marshal.FreeHGlobal(resolved);
        }
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

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr NativeRealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    /// <summary>A written job folder and the command line that runs it; disposing deletes the folder.</summary>
    internal sealed class PreparedRun(string folder, string marker, ProcessStartInfo startInfo) : IDisposable
    {
        /// <summary>The job folder (<c>files/</c>, <c>root/</c>, <c>setup.sh</c>).</summary>
        public string Folder { get; } = folder;

        /// <summary>The completion marker the harness must print last; written to the sandbox's stdin.</summary>
        public string Marker { get; } = marker;

        /// <summary>The command line (<c>setsid prlimit … setpriv … unshare … sh setup.sh …</c>).</summary>
        public ProcessStartInfo StartInfo { get; } = startInfo;

        /// <inheritdoc />
        public void Dispose() => DeleteFolder(Folder);

        /// <summary>Deletes a job folder; a folder that cannot be deleted is left for the temp cleaner.</summary>
        public static void DeleteFolder(string folder)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // left for the temp cleaner
            }
            catch (UnauthorizedAccessException)
            {
                // left for the temp cleaner
            }
        }
    }
}
