using System.Diagnostics;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

/// <summary>
/// Starts the single-node Slurm of scripts/slurm-test-cluster.sh once per test run (installing it where that is possible)
/// and hands out its SLURM_CONF; when Slurm cannot start here the calling fixture is ignored with the script's reason.
/// A cluster this class started is stopped by <see cref="StopIfStartedHere"/>; one that was already running is left alone.
/// </summary>
internal static class SlurmTestCluster
{
    private static readonly Lazy<(string? Conf, string Reason)> Started = new(Start);
    private static bool _startedHere;

    /// <summary>The bundle launch spec used by the tests: a torch-free fake trainer that speaks the output contract.</summary>
    public static string FakeTrainerScript =>
        Path.Combine(RepositoryPaths.Root, "tests", "LlamaMoe.Plugins.Tests", "Training", "External", "SlurmFakeTrainer.sbatch");

    /// <summary>The SLURM_CONF of the running test cluster; ignores the current test (fixture) when Slurm cannot run here.</summary>
    public static string RequireConf()
    {
        var (conf, reason) = Started.Value;
        if (conf is null)
        {
            Assert.Ignore("Slurm cannot start on this machine: " + reason);
        }

        return conf!;
    }

    /// <summary>Stops the cluster when this test run started it.</summary>
    public static void StopIfStartedHere()
    {
        if (_startedHere)
        {
            _startedHere = false;
            RunScript("stop", TimeSpan.FromSeconds(30));
        }
    }

    private static (string? Conf, string Reason) Start()
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, "the test cluster script needs Linux");
        }

        var (alreadyRunning, _) = RunScript("status", TimeSpan.FromSeconds(20));
        if (!alreadyRunning)
        {
            var (started, output) = RunScript("start", TimeSpan.FromMinutes(3));
            if (!started)
            {
                return (null, output.Trim());
            }

            _startedHere = true;
        }

        var (ok, env) = RunScript("env", TimeSpan.FromSeconds(10));
        var conf = env.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("SLURM_CONF=", StringComparison.Ordinal))?["SLURM_CONF=".Length..];
        return ok && conf is not null ? (conf, "") : (null, "scripts/slurm-test-cluster.sh env printed no SLURM_CONF: " + env);
    }

    private static (bool Ok, string Output) RunScript(string verb, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add(Path.Combine(RepositoryPaths.Root, "scripts", "slurm-test-cluster.sh"));
        startInfo.ArgumentList.Add(verb);
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (false, $"scripts/slurm-test-cluster.sh {verb} did not finish within {timeout.TotalSeconds:0} s");
        }

        return (process.ExitCode == 0, stdout.Result + stderr.Result);
    }
}
