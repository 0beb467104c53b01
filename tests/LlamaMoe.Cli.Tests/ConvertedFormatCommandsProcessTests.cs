using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

public sealed class ConvertedFormatCommandsProcessTests
{
    [Test]
    public void GenerateAndInspectAcceptAMixtralExportAndMatchTheNativeModel()
    {
        using var dir = new TempDirectory("cli-mixtral");
        var dense = dir.Combine("dense");
        var native = dir.Combine("native");
        var mixtral = dir.Combine("mixtral");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KBin, "--out", dense, "--tokenizer", SharedData.Tok512Model).ExitCode, Is.EqualTo(0));
        var convert = CliProcess.Run("convert", dense, "--out", native, "--experts", "4", "--top-k", "2", "--split", "sequential", "--scale", "2");
        Assert.That(convert.ExitCode, Is.EqualTo(0), convert.Stderr);
        var export = CliProcess.Run("export", native, "--format", "mixtral", "--out", mixtral);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Stderr);

        // A scale factor of 2 folds into w2 exactly, so greedy decoding gives the same text.
        var fromNative = CliProcess.Run("generate", native, "--prompt", "Once upon a time", "--max-new-tokens", "20");
        var fromMixtral = CliProcess.Run("generate", mixtral, "--prompt", "Once upon a time", "--max-new-tokens", "20");
        Assert.That(fromMixtral.ExitCode, Is.EqualTo(0), fromMixtral.Stderr);
        Assert.That(fromMixtral.Stdout, Is.EqualTo(fromNative.Stdout));
        Assert.That(fromMixtral.Stdout, Does.StartWith("Once upon a time"));

        var inspect = CliProcess.Run("inspect", mixtral);
        Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.Stderr);
        Assert.That(inspect.Stdout, Does.Contain("architecture  mixtral (read as llamamoe)"));
        Assert.That(inspect.Stdout, Does.Contain("experts       4 routed, top-k 2, residual 0, scale 1"));
        Assert.That(inspect.Stdout, Does.Contain("model.layers.4.block_sparse_moe.experts.3.w2.weight"));
    }
}
