using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace LlamaMoe.Testing;

/// <summary>Linux process-tree helpers for tests that kill a parent and check its descendants (read from <c>/proc</c>).</summary>
public static class ProcessTree
{
    /// <summary>Every descendant of <paramref name="root"/>, from the parent links in <c>/proc/*/stat</c>.</summary>
    public static List<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } stat)
            {
                parents[pid] = stat.Parent;
            }
        }

        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.Count > 0)
        {
            var current = frontier.Dequeue();
            foreach (var (pid, parent) in parents)
            {
                if (parent == current)
                {
                    found.Add(pid);
                    frontier.Enqueue(pid);
                }
            }
        }

        return found;
    }

    /// <summary>Whether <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State != 'Z' && stat.State != 'X';

    /// <summary>The command line of <paramref name="pid"/>, arguments separated by spaces; empty when it is gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>Sends SIGKILL to <paramref name="pid"/> alone (not its tree), as <c>kill -9</c> does.</summary>
    public static void KillHard(int pid) => _ = Kill(pid, 9);

    /// <summary>Waits until none of <paramref name="pids"/> is alive; false when some still are after <paramref name="timeout"/>.</summary>
    public static bool WaitUntilGone(IReadOnlyCollection<int> pids, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (pids.Any(IsAlive))
        {
            if (watch.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(100);
        }

        return true;
    }

    private static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
