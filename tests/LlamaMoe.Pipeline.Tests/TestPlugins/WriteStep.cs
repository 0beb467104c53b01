using System.Text;

namespace LlamaMoe.Pipeline.Tests.TestPlugins;

public enum TextCase
{
    Plain,
    Upper,
}

public sealed class WriteOptions : StepOptions
{
    [Option("Text to write.", Required = true)]
    public string Text { get; set; } = string.Empty;

    [Option("How many times.", Minimum = 1, Maximum = 100)]
    public int Repeat { get; set; } = 1;

    [Option("Letter case.")]
    public TextCase Case { get; set; } = TextCase.Plain;

    [Option("A file whose content is appended.", Path = OptionPathKind.Input)]
    public string? Source { get; set; }

    [Option("Labels.")]
    public List<string> Tags { get; set; } = [];

    [Option("A weight.", Minimum = 0, Maximum = 1)]
    public double Weight { get; set; } = 0.5;

    public override IEnumerable<OptionProblem> Validate()
    {
        if (Text == "forbidden")
        {
            yield return new OptionProblem("text", "the text 'forbidden' is not allowed", "Pick another text.");
        }
    }
}

/// <summary>Writes out.txt from its options and its inputs' out.txt files.</summary>
[PipelineStep("test/write", typeof(WriteOptions), Description = "Writes text derived from options and inputs.", Version = "1")]
public sealed class WriteStep : PipelineStep<WriteOptions>
{
    protected override async Task RunAsync(IStepContext context, WriteOptions options, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        for (var i = 0; i < options.Repeat; i++)
        {
            text.Append(options.Case == TextCase.Upper ? options.Text.ToUpperInvariant() : options.Text);
        }

        if (options.Source is not null)
        {
            text.Append('|').Append(await File.ReadAllTextAsync(options.Source, cancellationToken));
        }

        foreach (var input in context.Inputs)
        {
            text.Append('|').Append(await File.ReadAllTextAsync(input.File("out.txt"), cancellationToken));
        }

        await File.WriteAllTextAsync(Path.Combine(context.OutputDirectory, "out.txt"), text.ToString(), cancellationToken);
        context.Outputs["length"] = text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Progress.Report(1, 1, "written");
    }
}
