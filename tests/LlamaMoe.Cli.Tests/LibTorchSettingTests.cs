using System.Text.Json;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>LLAMAMOE_LIBTORCH: a libtorch lib folder or 'python'; wrong settings exit with code 3 and a coded message.</summary>
public sealed class LibTorchSettingTests
{
    private static string NuGetLibTorchFolder
    {
        get
        {
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
                ? p
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native");
        }
    }

    [Test]
    public void AFolderThatDoesNotExistExitsWith3AndLmoe1002()
    {
        using var dir = new TempDirectory("libtorch-missing");
        var run = Doctor(dir.Combine("nope"));
        Assert.That(run.ExitCode, Is.EqualTo(3));
        Assert.That(run.Stderr, Does.StartWith("LMOE1002: LLAMAMOE_LIBTORCH names the folder"));
        Assert.That(run.Stdout, Is.Empty);
    }

    [Test]
    public void AnEmptyFolderExitsWith3AndLmoe1003NamingTheMissingLibraries()
    {
        using var dir = new TempDirectory("libtorch-empty");
        var run = Doctor(dir.Path);
        Assert.That(run.ExitCode, Is.EqualTo(3));
        Assert.That(run.Stderr, Does.StartWith("LMOE1003:").And.Contain("libc10.so, libtorch_cpu.so, libtorch.so"));
    }

    [Test]
    public void AnotherLibtorchBesideTheBundledOneIsRefusedWithLmoe1006InsteadOfLoadingTwoCopies()
    {
        using var dir = new TempDirectory("libtorch-other");
        foreach (var library in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
        {
            File.WriteAllText(dir.Combine(library), "not the bundled file");
        }

        var run = Doctor(dir.Path);
        Assert.That(run.ExitCode, Is.EqualTo(3));
        Assert.That(run.Stderr, Does.StartWith("LMOE1006:").And.Contain("second libtorch"));
    }

    [Test]
    public void TheNuGetCpuFolderIsLoadedAndDoctorReportsIt()
    {
        Assume.That(File.Exists(Path.Combine(NuGetLibTorchFolder, "libtorch_cpu.so")), Is.True, "the libtorch-cpu-linux-x64 package is not in the NuGet cache");
        var run = Doctor(NuGetLibTorchFolder, "--json");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var libtorch = json.RootElement.GetProperty("libtorch");
        Assert.That(libtorch.GetProperty("source").GetString(), Is.EqualTo("LLAMAMOE_LIBTORCH"));
        Assert.That(libtorch.GetProperty("directory").GetString(), Is.EqualTo(NuGetLibTorchFolder));
        Assert.That(libtorch.GetProperty("loadedFrom").GetString(), Is.EqualTo(NuGetLibTorchFolder));
    }

    [Test]
    public void PythonUsesTheLibFolderOfTheTorchThatPython3ImportsAndItsVersion()
    {
        Assume.That(File.Exists(Path.Combine(NuGetLibTorchFolder, "libtorch_cpu.so")), Is.True, "the libtorch-cpu-linux-x64 package is not in the NuGet cache");
        using var dir = new TempDirectory("libtorch-python");
        var torch = dir.Combine("site-packages", "torch");
        Directory.CreateDirectory(torch);
        File.CreateSymbolicLink(Path.Combine(torch, "lib"), NuGetLibTorchFolder);
        File.WriteAllText(Path.Combine(torch, "version.py"), "from typing import Optional\n__version__ = '2.10.0+test'\ncuda: Optional[str] = None\n");
        var run = Doctor("python", "--json", FakePython(dir, $"echo '{torch}'"));
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
        using var json = JsonDocument.Parse(run.Stdout);
        var libtorch = json.RootElement.GetProperty("libtorch");
        Assert.That(libtorch.GetProperty("source").GetString(), Is.EqualTo("python"));
        Assert.That(libtorch.GetProperty("directory").GetString(), Is.EqualTo(Path.Combine(torch, "lib")));
        Assert.That(libtorch.GetProperty("version").GetString(), Is.EqualTo("2.10.0+test"));
    }

    [Test]
    public void PythonWithoutTorchExitsWith3AndLmoe1004()
    {
        using var dir = new TempDirectory("libtorch-notorch");
        var run = Doctor("python", null, FakePython(dir, "echo \"ModuleNotFoundError: No module named 'torch'\" >&2; exit 1"));
        Assert.That(run.ExitCode, Is.EqualTo(3));
        Assert.That(run.Stderr, Does.StartWith("LMOE1004:").And.Contain("No module named 'torch'"));
    }

    private static (int ExitCode, string Stdout, string Stderr) Doctor(string setting, string? flag = null, string? path = null)
    {
        var environment = new Dictionary<string, string?> { ["LLAMAMOE_LIBTORCH"] = setting };
        if (path is not null)
        {
            environment["PATH"] = path;
        }

        return flag is null ? CliProcess.RunWith(environment, "doctor") : CliProcess.RunWith(environment, "doctor", flag);
    }

    /// <summary>A folder with a python3 script running <paramref name="body"/>; returns a PATH that finds it first.</summary>
    private static string FakePython(TempDirectory dir, string body)
    {
        var bin = dir.Combine("bin");
        Directory.CreateDirectory(bin);
        var script = Path.Combine(bin, "python3");
        File.WriteAllText(script, $"#!/bin/sh\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
    }
}
