using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LlamaMoe.Modeling;

/// <summary>Where the libtorch that TorchSharp runs on came from.</summary>
public enum LibTorchSource
{
    /// <summary>The libtorch NuGet package copied beside the application (the default).</summary>
    Bundled,

    /// <summary>A libtorch <c>lib</c> folder named by <c>LLAMAMOE_LIBTORCH</c>.</summary>
    Environment,

    /// <summary>The <c>lib</c> folder of the PyTorch that <c>python3</c> imports (<c>LLAMAMOE_LIBTORCH=python</c>).</summary>
    Python,

    /// <summary>The libtorch NuGet package in the global packages folder (an application shipped without libtorch, such as the .NET tool).</summary>
    Package,
}

/// <summary>
/// A libtorch <c>lib</c> folder: the one named by <c>LLAMAMOE_LIBTORCH</c> (a path, or <c>python</c> for the
/// PyTorch that <c>python3</c> imports), or the bundled package's. <see cref="Resolve"/> checks the folder and reads
/// the libtorch version from <c>../version.py</c> (a PyTorch install) or <c>../build-version</c> (a libtorch zip).
/// </summary>
/// <param name="Directory">The absolute <c>lib</c> folder holding <c>libtorch_cpu.so</c>.</param>
/// <param name="Source">How the folder was chosen.</param>
/// <param name="Version">The libtorch version when the folder says it, such as <c>2.11.0+cu130</c>.</param>
public sealed record LibTorchLocation(string Directory, LibTorchSource Source, string? Version)
{
    /// <summary>The environment variable naming a libtorch <c>lib</c> folder, or <c>python</c>.</summary>
    public const string VariableName = "LLAMAMOE_LIBTORCH";

    /// <summary>The value of <see cref="VariableName"/> that asks <c>python3</c> where PyTorch is.</summary>
    public const string PythonValue = "python";

    /// <summary>The libraries a libtorch <c>lib</c> folder must hold.</summary>
    public static readonly IReadOnlyList<string> RequiredLibraries = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];

    /// <summary>The command that prints the folder of the <c>torch</c> package.</summary>
    internal const string PythonProbe = "import torch,os;print(os.path.dirname(torch.__file__))";

    private static readonly TimeSpan PythonTimeout = TimeSpan.FromSeconds(120);

    /// <summary>True when the folder holds the CUDA part of libtorch (<c>libtorch_cuda.so</c>).</summary>
    public bool HasCuda => File.Exists(Path.Combine(Directory, "libtorch_cuda.so"));

    /// <summary>
    /// Resolves a value of <c>LLAMAMOE_LIBTORCH</c>. Throws <see cref="TorchUnavailableException"/> with LMOE1002 (no
    /// such folder), LMOE1003 (a required library is missing) or LMOE1004 (<c>python3</c> or <c>torch</c> not found).
    /// </summary>
    public static LibTorchLocation Resolve(string value)
    {
        var trimmed = value.Trim();
        var source = string.Equals(trimmed, PythonValue, StringComparison.OrdinalIgnoreCase) ? LibTorchSource.Python : LibTorchSource.Environment;
        var directory = source == LibTorchSource.Python ? Path.Combine(AskPython(), "lib") : Path.GetFullPath(trimmed);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new TorchUnavailableException(TorchErrorCodes.LocationMissing,
                $"{VariableName} names the folder '{directory}', which does not exist. Point it at the 'lib' folder of a libtorch or PyTorch install " +
                "(the folder holding libtorch_cpu.so), set it to 'python' to use the PyTorch that python3 imports, or unset it to use the bundled libtorch.");
        }

        var missing = RequiredLibraries.Where(l => !File.Exists(Path.Combine(directory, l))).ToList();
        if (missing.Count > 0)
        {
            throw new TorchUnavailableException(TorchErrorCodes.LocationWithoutLibTorch,
                $"{VariableName}: the folder '{directory}' lacks {string.Join(", ", missing)}; it is not a libtorch 'lib' folder. " +
                "Use the 'lib' folder of a libtorch or PyTorch install (for pip: <site-packages>/torch/lib), or 'python'.");
        }

        return new LibTorchLocation(directory, source, ReadVersion(directory));
    }

    /// <summary>The version in <c>DIR/../version.py</c> (<c>__version__ = '...'</c>) or <c>DIR/../build-version</c>, or null.</summary>
    public static string? ReadVersion(string libDirectory)
    {
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(libDirectory));
        if (parent is null)
        {
            return null;
        }

        var versionPy = Path.Combine(parent, "version.py");
        if (File.Exists(versionPy))
        {
            var match = Regex.Match(File.ReadAllText(versionPy), @"^__version__\s*=\s*['""]([^'""]+)['""]", RegexOptions.Multiline);
            if (match.Success)
            {
                return match.Groups[1].Value;
            }
        }

        var buildVersion = Path.Combine(parent, "build-version");
        return File.Exists(buildVersion) ? File.ReadLines(buildVersion).FirstOrDefault()?.Trim() is { Length: > 0 } line ? line : null : null;
    }

    private static string AskPython()
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(PythonProbe);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception("python3 did not start");
        }
        catch (Win32Exception ex)
        {
            throw new TorchUnavailableException(TorchErrorCodes.PythonProbeFailed,
                $"{VariableName}=python, but python3 cannot be run ({ex.Message}). Put the python3 that has PyTorch on PATH (activate its virtual environment), " +
                $"or set {VariableName} to the PyTorch 'lib' folder itself.", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(PythonTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TorchUnavailableException(TorchErrorCodes.PythonProbeFailed, $"{VariableName}=python: 'python3 -c \"{PythonProbe}\"' did not finish within {PythonTimeout.TotalSeconds:F0} s.");
            }

            var output = stdout.GetAwaiter().GetResult().Trim();
            if (process.ExitCode != 0 || output.Length == 0)
            {
                var lastError = stderr.GetAwaiter().GetResult().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {process.ExitCode}";
                throw new TorchUnavailableException(TorchErrorCodes.PythonProbeFailed,
                    $"{VariableName}=python, but python3 cannot import torch ({lastError}). Install PyTorch for that python3 (pip install torch), " +
                    $"activate the environment that has it, or set {VariableName} to its 'lib' folder.");
            }

            return output.Split('\n').Last().Trim();
        }
    }
}
