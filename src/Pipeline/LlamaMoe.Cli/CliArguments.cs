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
