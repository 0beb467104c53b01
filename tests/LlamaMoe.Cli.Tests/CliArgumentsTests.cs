using LlamaMoe.Cli;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class CliArgumentsTests
{
    [Test]
    public void ParsesPositionalsOptionsAndFlags()
    {
        var args = new CliArguments(["model", "--out", "dir", "--json", "--seed=7"], new HashSet<string> { "json" });
        Assert.Multiple(() =>
        {
            Assert.That(args.Positionals, Is.EqualTo(new[] { "model" }));
            Assert.That(args.Option("out"), Is.EqualTo("dir"));
            Assert.That(args.Flag("json"), Is.True);
            Assert.That(args.Int("seed", 0), Is.EqualTo(7));
        });
        Assert.DoesNotThrow(args.ThrowOnUnused);
    }

    [Test]
    public void UnreadOptionIsAUsageError()
    {
        var args = new CliArguments(["--bogus", "1"], new HashSet<string>());
        Assert.Throws<CliUsageException>(args.ThrowOnUnused);
    }

    [Test]
    public void OptionWithoutValueIsAUsageError()
    {
        Assert.Throws<CliUsageException>(() => _ = new CliArguments(["--out"], new HashSet<string>()));
    }

    [Test]
    public void NonNumericIntegerOptionIsAUsageError()
    {
        var args = new CliArguments(["--seed", "x"], new HashSet<string>());
        Assert.Throws<CliUsageException>(() => args.Int("seed", 0));
    }
}
