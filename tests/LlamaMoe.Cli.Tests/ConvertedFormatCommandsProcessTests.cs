using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
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

    [Test]
    public void GgufExportPicksQwen2MoeForTheResidualVariantAndLlamaOtherwise()
    {
        using var dir = new TempDirectory("cli-gguf-arch");
        var dense = dir.Combine("dense");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KBin, "--out", dense, "--tokenizer", SharedData.Tok512Model).ExitCode, Is.EqualTo(0));
        string Convert(string name, params string[] options)
        {
            var output = dir.Combine(name);
            var run = CliProcess.Run(["convert", dense, "--out", output, "--split", "sequential", .. options]);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Stderr);
            return output;
        }

        var residual = Convert("residual", "--experts", "3", "--top-k", "1", "--residual", "1", "--routing", "softmax");
        var export = CliProcess.Run("export", residual, "--format", "gguf", "--out", dir.Combine("residual.gguf"));
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Stderr);
        var file = GgufFile.Read(dir.Combine("residual.gguf"));
        Assert.That(file.Metadata["general.architecture"], Is.EqualTo("qwen2moe"));
        Assert.That(file.Tensors.Select(t => t.Name), Does.Contain("blk.0.ffn_down_shexp.weight"));

        var routed = Convert("routed", "--experts", "4", "--top-k", "2");
        Assert.That(CliProcess.Run("export", routed, "--format", "gguf", "--out", dir.Combine("routed.gguf")).ExitCode, Is.EqualTo(0));
        Assert.That(GgufFile.Read(dir.Combine("routed.gguf")).Metadata["general.architecture"], Is.EqualTo("llama"));

        var renormalised = Convert("renormalised", "--experts", "3", "--top-k", "1", "--residual", "1");
        var refused = CliProcess.Run("export", renormalised, "--format", "gguf", "--out", dir.Combine("renormalised.gguf"));
        Assert.That(refused.ExitCode, Is.Not.EqualTo(0));
        Assert.That(refused.Stderr, Does.Contain(ExportErrorCodes.GgufRoutingNotExpressible));
        Assert.That(File.Exists(dir.Combine("renormalised.gguf")), Is.False);
    }
}
