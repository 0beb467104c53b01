namespace LlamaMoe.Cli;

/// <summary>
/// A minimal, strict command-line parser: positional arguments, <c>--name value</c> options, and flags.
/// Options a command does not read are reported by <see cref="ThrowOnUnused"/> as usage errors.
/// </summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    /// <summary>Parses everything after the subcommand name. <paramref name="flagNames"/> lists options that take no value.</summary>
    public CliArguments(IReadOnlyList<string> args, IReadOnlySet<string> flagNames)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                Positionals.AddRange(args.Skip(i + 1));
                break;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var name = arg[2..];
                string? inlineValue = null;
                var eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    inlineValue = name[(eq + 1)..];
                    name = name[..eq];
                }

                if (flagNames.Contains(name) && inlineValue is null)
                {
                    flags.Add(name);
                    continue;
                }

                var value = inlineValue ?? (i + 1 < args.Count ? args[++i] : throw new CliUsageException($"option --{name} needs a value"));
                if (!options.TryGetValue(name, out var list))
                {
                    options[name] = list = [];
                }

                list.Add(value);
                continue;
            }

            Positionals.Add(arg);
        }
    }

    /// <summary>Positional arguments in order.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>True when the flag was given.</summary>
    public bool Flag(string name)
    {
        used.Add(name);
        return flags.Contains(name);
    }

    /// <summary>The last value of an option, or null.</summary>
    public string? Option(string name)
    {
        used.Add(name);
        return options.TryGetValue(name, out var list) ? list[^1] : null;
    }

    /// <summary>All values of a repeatable option.</summary>
    public IReadOnlyList<string> Options(string name)
    {
        used.Add(name);
        return options.TryGetValue(name, out var list) ? list : [];
    }

    /// <summary>An integer option, or the default.</summary>
    public int Int(string name, int defaultValue)
    {
        var text = Option(name);
        if (text is null)
        {
            return defaultValue;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CliUsageException($"option --{name} expects an integer, got '{text}'");
    }

    /// <summary>An integer option of at least <paramref name="minimum"/>, or the default; a smaller value is a usage error naming the option.</summary>
    public int Int(string name, int defaultValue, int minimum)
    {
        var value = Int(name, defaultValue);
        return value >= minimum || Option(name) is null
            ? value
            : throw new CliUsageException($"option --{name} must be at least {minimum}, got {value}");
    }

    /// <summary>
    /// The model directory at positional <paramref name="index"/>: a usage error when it is missing, and LMOE0905 when the path
    /// does not exist or is not a directory (before anything inside it is looked for).
    /// </summary>
    public string ModelDirectory(int index)
    {
        var path = Required(index, "the model directory");
        if (Directory.Exists(path))
        {
            return path;
        }

        throw new LlamaMoeException(ModelDirectoryMissingCode,
            File.Exists(path) ? "the model path is a file, not a model directory" : "the model directory does not exist",
            path, advice: "Name a folder holding config.json, the weights and tokenizer.model (for example the --out folder of 'llama-moe import').");
    }

    /// <summary>
    /// The value of an option naming a directory to write (null when absent); LMOE0904 when it names an existing file or
    /// something else that is not a directory.
    /// </summary>
    public string? OutputDirectory(string name)
    {
        var path = Option(name);
        if (path is null || Directory.Exists(path) || !Path.Exists(path))
        {
            return path;
        }

        throw new LlamaMoeException(OutputIsFileCode, $"--{name} names an existing file; a model directory is written there", path, name,
            $"Name a new or existing directory for --{name}, or remove the file.");
    }

    /// <summary>LMOE0904: an option naming a directory to write names an existing file.</summary>
    public const string OutputIsFileCode = "LMOE0904";

    /// <summary>LMOE0905: the model directory named on the command line does not exist or is a file.</summary>
    public const string ModelDirectoryMissingCode = "LMOE0905";

    /// <summary>A floating-point option, or the default.</summary>
    public double Double(string name, double defaultValue)
    {
        var text = Option(name);
        if (text is null)
        {
            return defaultValue;
        }

        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CliUsageException($"option --{name} expects a number, got '{text}'");
    }

    /// <summary>The positional at <paramref name="index"/>, or a usage error naming <paramref name="what"/>.</summary>
    public string Required(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new CliUsageException($"missing {what}");

    /// <summary>Throws a usage error for any option or flag the command did not read.</summary>
    public void ThrowOnUnused()
    {
        var unknown = options.Keys.Concat(flags).Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new CliUsageException("unknown option " + string.Join(", ", unknown.Select(k => "--" + k)));
        }
    }
}

/// <summary>A command-line usage error (exit code 2).</summary>
public sealed class CliUsageException(string message) : Exception(message);
