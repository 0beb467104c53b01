using System.CommandLine;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary>Parsing, help, response files and completion of the System.CommandLine tree (in process).</summary>
public sealed class CommandLineParsingTests
{
    private readonly CliApplication app = new();

    [TestCase("--until", "train")]
    [TestCase("--until=train", null)]
    public void SpaceAndEqualsFormsGiveTheSameValue(string option, string? value)
    {
        string[] args = value is null ? ["run", "p.yaml", option] : ["run", "p.yaml", option, value];
        var parse = app.Parse(args);
        Assert.That(parse.Errors, Is.Empty);
        Assert.That(parse.GetValue<string>("--until"), Is.EqualTo("train"));
        Assert.That(parse.GetValue<string>("pipeline.yaml"), Is.EqualTo("p.yaml"));
    }

    [TestCase("run")]
    [TestCase("plan")]
    public void ForceTakesAStageInTheSpaceFormAndRepeats(string command)
    {
        var parse = app.Parse([command, "p.yaml", "--force", "moe", "--force=dense", "--force", "train"]);
        Assert.That(parse.Errors, Is.Empty);
        Assert.That(parse.GetValue<string[]>("--force"), Is.EqualTo(new[] { "moe", "dense", "train" }));
        Assert.That(parse.GetValue<string>("pipeline.yaml"), Is.EqualTo("p.yaml"), "the stage name is not taken for the pipeline file");
    }

    [Test]
    public void ConvertForceStaysAFlagThatTakesNoValue()
    {
        var parse = app.Parse(["convert", "dense", "--out", "moe", "--split", "random", "--force"]);
        Assert.That(parse.Errors, Is.Empty);
        Assert.That(parse.GetValue<bool>("--force"), Is.True);
    }

    [Test]
    public void AResponseFileExpandsIntoArguments()
    {
        var file = Path.Combine(Path.GetTempPath(), $"llamamoe-rsp-{Guid.NewGuid():N}.rsp");
        File.WriteAllLines(file, ["--force moe", "--var", "steps=3", "--until=eval"]);
        try
        {
            var parse = app.Parse(["run", "p.yaml", "@" + file]);
            Assert.That(parse.Errors, Is.Empty);
            Assert.That(parse.GetValue<string[]>("--force"), Is.EqualTo(new[] { "moe" }));
            Assert.That(parse.GetValue<string[]>("--var"), Is.EqualTo(new[] { "steps=3" }));
            Assert.That(parse.GetValue<string>("--until"), Is.EqualTo("eval"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void AnAtWordThatNamesNoFileStaysLiteral()
    {
        var parse = app.Parse(["generate", "m", "--prompt", "@bob said hi"]);
        Assert.That(parse.Errors, Is.Empty);
        Assert.That(parse.GetValue<string>("--prompt"), Is.EqualTo("@bob said hi"));
    }

    [Test]
    public void ResponseFileLinesKeepQuotedWordsTogetherAndSkipComments()
    {
        Assert.That(ResponseFiles.Split("--prompt \"Once upon\" --seed 3"), Is.EqualTo(new[] { "--prompt", "Once upon", "--seed", "3" }));
        var file = Path.Combine(Path.GetTempPath(), $"llamamoe-rsp-{Guid.NewGuid():N}.rsp");
        File.WriteAllLines(file, ["# generation settings", "", "--prompt \"Once upon a time\"", "--max-new-tokens=8"]);
        try
        {
            var parse = app.Parse(["generate", "m", "@" + file]);
            Assert.That(parse.Errors, Is.Empty);
            Assert.That(parse.GetValue<string>("--prompt"), Is.EqualTo("Once upon a time"));
            Assert.That(parse.GetValue<int>("--max-new-tokens"), Is.EqualTo(8));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void ForceAndUntilCompleteThePipelinesStageNames()
    {
        var file = Path.Combine(Path.GetTempPath(), $"llamamoe-complete-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "name: p\nstages:\n  data: { uses: data/synthetic, with: { people: 2 } }\n  dense: { uses: data/synthetic, with: { people: 3 } }\n");
        try
        {
            Assert.That(app.Root.Parse($"run {file} --force d").GetCompletions().Select(c => c.Label), Is.EquivalentTo(new[] { "data", "dense" }));
            Assert.That(app.Root.Parse($"plan {file} --until de").GetCompletions().Select(c => c.Label), Is.EquivalentTo(new[] { "dense" }));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void EveryCommandHasHelpGeneratedFromItsOwnOptions()
    {
        foreach (var command in app.Root.Subcommands)
        {
            using var output = new StringWriter();
            Assert.That(app.Run([command.Name, "--help"], CancellationToken.None, output), Is.EqualTo(ExitCodes.Success), command.Name);
            var help = output.ToString();
            Assert.That(help, Does.Contain("Usage:").And.Contain(" " + command.Name + " "), command.Name);
            Assert.That(help, Does.Contain(command.Description), command.Name);
            foreach (var option in command.Options)
            {
                Assert.That(help, Does.Contain(option.Name), $"{command.Name} --help lacks {option.Name}");
            }
        }
    }

    [Test]
    public void TheExecutableHelpNamesLlamaMoeAndExitsZero()
    {
        var run = CliProcess.Run("run", "--help");
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Success));
        Assert.That(run.Stdout, Does.Contain("llama-moe run <pipeline.yaml> [options]").And.Contain("--force <STAGE>"));
    }

    [Test]
    public void HelpCommandAndRootHelpListCommandsAndExitCodes()
    {
        using var root = new StringWriter();
        Assert.That(app.Run(["--help"], CancellationToken.None, root), Is.EqualTo(ExitCodes.Success));
        Assert.That(root.ToString(), Does.Contain(CliApplication.ExitCodesLine));
        Assert.That(app.Root.Subcommands.Select(c => c.Name), Is.All.Matches<string>(name => root.ToString().Contains("  " + name, StringComparison.Ordinal)));
        using var helpEval = new StringWriter();
        Assert.That(app.Run(["help", "eval"], CancellationToken.None, helpEval), Is.EqualTo(ExitCodes.Success));
        Assert.That(helpEval.ToString(), Does.Contain("--max-new-tokens"));
    }

    [Test]
    public void CompletionOffersCommandsOptionsAndChoices()
    {
        Assert.That(app.Root.Parse("ru").GetCompletions().Select(c => c.Label), Does.Contain("run"));
        Assert.That(app.Root.Parse("eval m --task gsm8k --max").GetCompletions().Select(c => c.Label), Does.Contain("--max-new-tokens").And.Contain("--max-length"));
        Assert.That(app.Root.Parse("run p.yaml --device ").GetCompletions().Select(c => c.Label), Is.SupersetOf(new[] { "auto", "cpu", "cuda" }));
    }

    [TestCase("eval m --data d")]
    [TestCase("generate m --prompt p")]
    public void ModelCommandsTakeDeviceAutoCpuOrCuda(string commandLine)
    {
        foreach (var device in new[] { "auto", "cpu", "cuda" })
        {
            var parse = app.Parse([.. commandLine.Split(' '), "--device", device]);
            Assert.That(parse.Errors, Is.Empty, device);
            Assert.That(parse.GetValue<string>("--device"), Is.EqualTo(device));
        }

        Assert.That(app.Parse([.. commandLine.Split(' '), "--device", "tpu"]).Errors, Is.Not.Empty);
    }
}
