namespace LlamaMoe.Cli;

/// <summary>Checks of paths named on the command line that fail with coded errors (exit code 1) rather than usage errors.</summary>
public static class CommandLinePaths
{
    /// <summary>LMOE0904: an option naming a directory to write names an existing file.</summary>
    public const string OutputIsFileCode = "LMOE0904";

    /// <summary>LMOE0905: the model directory named on the command line does not exist or is a file.</summary>
    public const string ModelDirectoryMissingCode = "LMOE0905";

    /// <summary>LMOE0912: <c>--out</c> names an existing directory where one file (a GGUF export) is written.</summary>
    public const string OutputIsDirectoryCode = "LMOE0912";

    /// <summary>
    /// The model directory <paramref name="path"/>; LMOE0905 when the path does not exist or is not a directory (before
    /// anything inside it is looked for).
    /// </summary>
    public static string ModelDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return path;
        }

        throw new LlamaMoeException(ModelDirectoryMissingCode,
            File.Exists(path) ? "the model path is a file, not a model directory" : "the model directory does not exist",
            path, advice: "Name a folder holding config.json, the weights and tokenizer.model (for example the --out folder of 'llama-moe import').");
    }

    /// <summary>The directory to write <paramref name="path"/> (given as <c>--<paramref name="name"/></c>); LMOE0904 when it names an existing file.</summary>
    public static string OutputDirectory(string path, string name)
    {
        if (Directory.Exists(path) || !Path.Exists(path))
        {
            return path;
        }

        throw new LlamaMoeException(OutputIsFileCode, $"--{name} names an existing file; a model directory is written there", path, name,
            $"Name a new or existing directory for --{name}, or remove the file.");
    }
}
