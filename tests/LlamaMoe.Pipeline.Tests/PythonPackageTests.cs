using System.Diagnostics;
using System.Text.RegularExpressions;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

/// <summary>
/// Runs the stdlib-only unit tests of the Python package under <c>python/</c> (the job bundle's <c>py/llamamoe_hf</c>)
/// from the .NET suite, so CI counts them. Ignored, with the reason, where no <c>python3</c> is on the PATH.
/// </summary>
public sealed partial class PythonPackageTests
{
    [Test]
    public void ThePythonPackagesUnitTestsPassWithTheStandardLibraryOnly()
    {
        var python = FindPython() ?? IgnoreWithoutPython();
        var root = RepositoryPaths.Root;
        var start = new ProcessStartInfo(python)
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-B", "-m", "unittest", "discover", "-s", "python/tests", "-t", "python" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(3)), Is.True, "the Python tests did not finish in 3 minutes");
        var report = stdout.Result + stderr.Result;
        Assert.That(process.ExitCode, Is.EqualTo(0), report);
        var ran = RanCount().Match(report);
        Assert.That(ran.Success, Is.True, "unittest printed no 'Ran N tests' line:\n" + report);
        Assert.That(int.Parse(ran.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(50),
            "fewer Python tests ran than the package has; discovery is broken:\n" + report);
    }

    private static string? FindPython()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in new[] { "python3", "python3.exe" })
            {
                var candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static string IgnoreWithoutPython()
    {
        Assert.Ignore("python3 is not on the PATH; the Python package's unit tests (python/tests) need Python 3.10 or newer.");
        return string.Empty;
    }

    [GeneratedRegex(@"Ran (\d+) tests? in")]
    private static partial Regex RanCount();
}
