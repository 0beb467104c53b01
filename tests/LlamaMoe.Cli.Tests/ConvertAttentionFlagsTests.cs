using System.Text.Json.Nodes;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Cli.Tests;

/// <summary><c>llama-moe convert --attention-experts N --attention-top-k K</c> on stories260K (8 query heads, 4 KV heads).</summary>
public sealed class ConvertAttentionFlagsTests
{
    [Test]
    public void AttentionFlagsBuildAnAttentionMoeModelThatGenerates()
    {
        using var dir = new TempDirectory("cli-convert-attn");
        var dense = dir.Combine("dense");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KBin, "--out", dense, "--tokenizer", SharedData.Tok512Model).ExitCode, Is.EqualTo(0));
        var moe = dir.Combine("moe");
        var convert = CliProcess.Run("convert", dense, "--out", moe, "--experts", "4", "--top-k", "2", "--split", "sequential",
            "--attention-experts", "8", "--attention-top-k", "6", "--attention-scale", "1.25", "--seed", "3");
        Assert.That(convert.ExitCode, Is.EqualTo(0), convert.Stderr);
        Assert.That(convert.Stdout, Does.Contain("attention-MoE: 8 experts (split 2), top-6, scale 1.25, layers 0,1,2,3,4"));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(moe, "config.json")))!;
        var attention = config["attention_moe"]!;
        Assert.That(attention["num_experts"]!.GetValue<int>(), Is.EqualTo(8));
        Assert.That(attention["top_k"]!.GetValue<int>(), Is.EqualTo(6));
        Assert.That(attention["split"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(attention["scale_factor"]!.GetValue<double>(), Is.EqualTo(1.25));

        var inspect = CliProcess.Run("inspect", moe);
        Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.Stderr);
        Assert.That(inspect.Stdout, Does.Contain("model.layers.4.self_attn.o_proj.7.weight"));
        var generate = CliProcess.Run("generate", moe, "--prompt", "Once upon a time", "--max-new-tokens", "8");
        Assert.That(generate.ExitCode, Is.EqualTo(0), generate.Stderr);
        Assert.That(generate.Stdout, Does.StartWith("Once upon a time"));
    }

    [TestCase("--attention-experts", "3")]
    [TestCase("--attention-top-k", "2")]
    public void InconsistentAttentionFlagsFailWithLmoe2305(string flag, string value)
    {
        using var dir = new TempDirectory("cli-convert-attn-bad");
        var dense = dir.Combine("dense");
        Assert.That(CliProcess.Run("import", SharedData.Stories260KBin, "--out", dense, "--tokenizer", SharedData.Tok512Model).ExitCode, Is.EqualTo(0));
        var run = CliProcess.Run("convert", dense, "--out", dir.Combine("moe"), "--experts", "4", "--top-k", "2", "--split", "sequential", flag, value);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Stderr, Does.Contain("error LMOE2305"));
        Assert.That(Directory.Exists(dir.Combine("moe")), Is.False, "nothing is written");
    }
}
