using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace LlamaMoe.Modeling;

/// <summary>
/// The libtorch of an application that ships without it (the <c>LlamaMoe.Cli</c> .NET tool: a tool package holding the
/// 700 MB CPU libtorch would be downloaded with every tool version). The <c>libtorch-cpu-linux-x64</c> package of the
/// version TorchSharp was built against is taken from the NuGet global packages folder, and restored there on first
/// use with <c>dotnet restore</c> (through the user's NuGet configuration) when it is missing.
/// </summary>
public static class LibTorchPackageCache
{
    /// <summary>The NuGet package holding the CPU libtorch for Linux x64.</summary>
    public const string PackageId = "libtorch-cpu-linux-x64";

    private static readonly TimeSpan RestoreTimeout = TimeSpan.FromMinutes(30);

    /// <summary>True when the application folder has its own libtorch (a build output, or a plain publish).</summary>
    public static bool ApplicationHasBundledLibTorch =>
        LibTorchPreloader.NativeSearchFolders().Any(f => File.Exists(Path.Combine(f, "libtorch_cpu.so")));

    /// <summary>The NuGet global packages folder: <c>NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>.</summary>
    public static string GlobalPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>The native folder of the package <paramref name="version"/> inside the global packages folder.</summary>
    public static string NativeFolder(string version) =>
        Path.Combine(GlobalPackagesFolder, PackageId, version.ToLowerInvariant(), "runtimes", "linux-x64", "native");

    /// <summary>
    /// The cached libtorch of the version TorchSharp expects, restored first when it is missing. Throws
    /// <see cref="TorchUnavailableException"/> with LMOE1007 (the restore failed) or LMOE1008 (the restored package
    /// lacks the libraries).
    /// </summary>
    public static LibTorchLocation Locate(TextWriter progress)
    {
        var version = TorchRuntime.ExpectedLibTorchVersion
            ?? throw new TorchUnavailableException(TorchErrorCodes.PackageIncomplete, "TorchSharp does not say which libtorch version it was built for, so the libtorch package cannot be chosen. " +
                $"Set {LibTorchLocation.VariableName} to a libtorch 'lib' folder.");
        var folder = NativeFolder(version);
        if (!HasLibraries(folder))
        {
            progress.WriteLine($"llama-moe: first use of this installation: restoring {PackageId} {version} (about 700 MB, once) into {GlobalPackagesFolder} ...");
            Restore(version);
            if (!HasLibraries(folder))
            {
                throw new TorchUnavailableException(TorchErrorCodes.PackageIncomplete,
                    $"'dotnet restore' reported success, but '{folder}' lacks {string.Join(", ", LibTorchLocation.RequiredLibraries)}. Delete " +
                    $"'{Path.Combine(GlobalPackagesFolder, PackageId, version)}' and run llama-moe again, or set {LibTorchLocation.VariableName} to a libtorch 'lib' folder.");
            }
        }

        return new LibTorchLocation(folder, LibTorchSource.Package, version);
    }

    private static bool HasLibraries(string folder) => LibTorchLocation.RequiredLibraries.All(l => File.Exists(Path.Combine(folder, l)));

    /// <summary>Downloads the package with <c>dotnet restore</c> of a throw-away project holding one <c>PackageDownload</c>.</summary>
    private static void Restore(string version)
    {
        var work = Path.Combine(Path.GetTempPath(), $"llamamoe-libtorch-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var project = Path.Combine(work, "restore-libtorch.csproj");
            File.WriteAllText(project,
                "<Project Sdk=\"Microsoft.NET.Sdk\">\n" +
                "  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>\n" +
                $"  <ItemGroup><PackageDownload Include=\"{PackageId}\" Version=\"[{version}]\" /></ItemGroup>\n" +
                "</Project>\n");
            var (exitCode, output) = RunDotnet(work, "restore", project, "-nodeReuse:false", "-v:q");
            if (exitCode != 0)
            {
                var tail = string.Join(" ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));
                throw new TorchUnavailableException(TorchErrorCodes.RestoreFailed,
                    $"restoring {PackageId} {version} into '{GlobalPackagesFolder}' failed (dotnet restore exit code {exitCode}: {tail}). " +
                    $"Check that a NuGet source serving {PackageId} is configured (nuget.org is) and reachable, then run llama-moe again; " +
                    $"or set {LibTorchLocation.VariableName} to a libtorch 'lib' folder.");
            }
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // a leftover temporary folder is harmless
            }
        }
    }

    private static (int ExitCode, string Output) RunDotnet(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost()) { WorkingDirectory = workingDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        try
        {
            using var process = Process.Start(start) ?? throw new Win32Exception("dotnet did not start");
            process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(RestoreTimeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"did not finish within {RestoreTimeout.TotalMinutes:F0} minutes");
            }

            process.WaitForExit();
            return (process.ExitCode, output.ToString());
        }
        catch (Win32Exception ex)
        {
            return (-1, $"'{start.FileName}' could not be started: {ex.Message}");
        }
    }

    /// <summary>The <c>dotnet</c> executable: <c>DOTNET_HOST_PATH</c>, else the one above the running runtime.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ -> <root>/dotnet
        var runtime = Path.TrimEndingDirectorySeparator(RuntimeEnvironment.GetRuntimeDirectory());
        var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(runtime)));
        var candidate = root is null ? null : Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return candidate is not null && File.Exists(candidate) ? candidate : "dotnet";
    }
}
