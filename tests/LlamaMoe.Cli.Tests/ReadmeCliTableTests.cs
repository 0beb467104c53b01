using System.Text.RegularExpressions;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>The README's CLI table matches <c>--help</c>: the same commands both ways, and every option it lists exists.</summary>
public sealed partial class ReadmeCliTableTests
{
    private readonly CliApplication app = new();

    [Test]
    public void EveryCommandInHelpIsInTheReadmeTableAndViceVersa()
    {
        var table = ReadTable();
        var documented = table.Select(r => r.Command).ToHashSet(StringComparer.Ordinal);
        var inHelp = HelpCommands();
        Assert.Multiple(() =>
        {
            Assert.That(inHelp.Except(documented), Is.Empty, "commands in --help missing from the README's CLI table");
            Assert.That(documented.Except(inHelp), Is.Empty, "commands in the README's CLI table that --help does not list");
        });
    }

    [Test]
    public void EveryOptionTheReadmeTableListsIsInThatCommandsHelp()
    {
        foreach (var (command, options) in ReadTable())
        {
            using var output = new StringWriter();
            Assert.That(app.Run([command, "--help"], CancellationToken.None, output), Is.EqualTo(ExitCodes.Success));
            var help = HelpOptionNames(output.ToString());
            Assert.That(options.Except(help), Is.Empty, $"README lists options of '{command}' that 'llama-moe {command} --help' does not");
        }
    }

    private HashSet<string> HelpCommands()
    {
        using var output = new StringWriter();
        app.Run(["--help"], CancellationToken.None, output);
        var commands = output.ToString().Split('\n').SkipWhile(l => !l.StartsWith("Commands:", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal))
            .Select(l => l.Trim().Split(' ')[0]);
        return commands.ToHashSet(StringComparer.Ordinal);
    }

    private static HashSet<string> HelpOptionNames(string help) => OptionPattern().Matches(help).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>The table under "## CLI": each row's commands (<c>`llama-moe NAME ...`</c>, plus <c>`NAME`</c> cells after a slash) and the options it names.</summary>
    private static List<(string Command, HashSet<string> Options)> ReadTable()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"));
        var rows = lines.SkipWhile(l => l.Trim() != "## CLI").Skip(1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2).ToList();
        Assert.That(rows, Is.Not.Empty, "README.md has no table under '## CLI'");
        var result = new List<(string, HashSet<string>)>();
        foreach (var row in rows)
        {
            var cell = row.Replace("\\|", "¦", StringComparison.Ordinal).Split('|')[1];
            foreach (Match code in CodePattern().Matches(cell))
            {
                var words = code.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var command = words[0] == "llama-moe" ? words[1] : words[0];
                result.Add((command, OptionPattern().Matches(code.Groups[1].Value).Select(m => m.Value).ToHashSet(StringComparer.Ordinal)));
            }
        }

        return result;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z0-9-]*")]
    private static partial Regex OptionPattern();
}
