using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Cli;

/// <summary>
/// Builds the System.CommandLine options the commands share, so every integer, number, choice and flag parses,
/// range-checks and reports its errors the same way (each error names the option; all become LMOE0920, exit 2).
/// </summary>
public static class CliOptions
{
    /// <summary>A text option taking one value (<c>--name VALUE</c> or <c>--name=VALUE</c>).</summary>
    public static Option<string> Text(string name, string description, string helpName, bool required = false) =>
        new(name) { Description = description, HelpName = helpName, Required = required };

    /// <summary>An option naming a file or folder (shells complete paths for it).</summary>
    public static Option<string> Path(string name, string description, string helpName = "PATH", bool required = false) =>
        Text(name, description, helpName, required);

    /// <summary>An on/off flag that takes no value.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>A repeatable option: <c>--name A --name B</c> collects both.</summary>
    public static Option<string[]> Repeated(string name, string description, string helpName) =>
        new(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };

    /// <summary>One value from a fixed set (the set is shown in help and offered by completion).</summary>
    public static Option<string> Choice(string name, string description, string? defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, HelpName = string.Join("|", values) };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        option.AcceptOnlyFromAmong(values);
        return option;
    }

    /// <summary>An integer option with a default; a value below <paramref name="minimum"/> is refused naming the option.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int? minimum = null, string helpName = "N")
    {
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = helpName,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => ParseInt(result, name, minimum) ?? 0,
        };
        return option;
    }

    /// <summary>An integer option that is absent (null) unless given; a value below <paramref name="minimum"/> is refused.</summary>
    public static Option<int?> OptionalInt(string name, string description, int? minimum = null, string helpName = "N") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = result => ParseInt(result, name, minimum) };

    /// <summary>A floating-point option with a default.</summary>
    public static Option<double> Double(string name, string description, double defaultValue, string helpName = "X") =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue, CustomParser = result => ParseDouble(result, name) ?? 0 };

    /// <summary>A floating-point option that is absent (null) unless given.</summary>
    public static Option<double?> OptionalDouble(string name, string description, string helpName = "X") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = result => ParseDouble(result, name) };

    /// <summary>A required positional argument.</summary>
    public static Argument<string> Argument(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.ExactlyOne };

    /// <summary><c>--device auto|cpu|cuda</c>; <paramref name="defaultValue"/> null leaves the choice to the pipeline file.</summary>
    public static Option<string> Device(string? defaultValue, string description) => Choice("--device", description, defaultValue, [.. DeviceNames.All]);

    private static int? ParseInt(ArgumentResult result, string name, int? minimum)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"option {name} expects an integer, got '{text}'");
            return null;
        }

        if (minimum is { } min && value < min)
        {
            result.AddError($"{name} must be at least {min}, got {value}");
            return null;
        }

        return value;
    }

    private static double? ParseDouble(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        result.AddError($"option {name} expects a number, got '{text}'");
        return null;
    }
}
