using System.Text.Json.Nodes;
using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using LlamaMoe.Modeling.Tests.MoeModel;
using LlamaMoe.Testing;
using NUnit.Framework;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>Mixtral, LLaMA-MoE v1 and v2 directories load through <see cref="CausalLanguageModelLoader"/> via the format readers.</summary>
public sealed class ConvertedFormatLoadingTests
{
    private static TempDirectory? work;
    private static LlamaForCausalLM? dense;
    private static string denseDir = string.Empty;

    [OneTimeSetUp]
    public void ImportDense()
    {
        TorchRuntime.EnsureLoaded();
        work = new TempDirectory("converted-loading");
        denseDir = MoeTestModels.ImportStories(work.Combine("dense"));
        dense = LlamaForCausalLM.FromDirectory(denseDir);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        dense?.Dispose();
        work?.Dispose();
    }

    [Test]
    public void MixtralExportLoadsThroughTheLoaderWithTheSameLogitsAndSavesAsNative()
    {
        using var moe = MoeTestModels.FromDense(dense!, 4, 2, 2.0);
        var dir = work!.Combine("mixtral");
        using (var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe)))
        {
            MixtralFormat.Write(checkpoint, dir, denseDir);
        }

        using var loaded = CausalLanguageModelLoader.Load(dir);
        var expected = MoeTestModels.Logits(moe, MoeTestModels.TestIds);
        Assert.That(LlamaCppRunner.MaxAbsDiff(expected, MoeTestModels.Logits(loaded, MoeTestModels.TestIds)), Is.LessThan(1e-4));
        var config = MoeModelFactory.MoeConfigOf(loaded)!;
        Assert.That((config.ExpertCount, config.TopK, config.MoeLayers.Count), Is.EqualTo((4, 2, 5)));
        Assert.That(config.ScaleFactors, Is.All.EqualTo(1.0), "the scale factor is folded into w2");

        CausalLanguageModelLoader.Save(loaded, work.Combine("mixtral-as-native"), companionSource: dir);
        Assert.That(ModelDirectory.ModelTypeOf(work.Combine("mixtral-as-native")), Is.EqualTo("llamamoe"));
        using var native = CausalLanguageModelLoader.Load(work.Combine("mixtral-as-native"));
        Assert.That(LlamaCppRunner.MaxAbsDiff(expected, MoeTestModels.Logits(native, MoeTestModels.TestIds)), Is.LessThan(1e-4));
    }

    [Test]
    public void LlamaMoeV2ExportWithResidualExpertLoadsThroughTheLoaderWithTheSameLogits()
    {
        using var moe = MoeTestModels.FromDense(dense!, 4, 2, 4.0, residual: 44);
        var dir = work!.Combine("v2");
        using (var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe)))
        {
            LlamaMoeV2Format.Write(checkpoint, dir);
        }

        using var loaded = CausalLanguageModelLoader.Load(dir);
        Assert.That(LlamaCppRunner.MaxAbsDiff(MoeTestModels.Logits(moe, MoeTestModels.TestIds), MoeTestModels.Logits(loaded, MoeTestModels.TestIds)), Is.LessThan(1e-4));
        var config = CausalLanguageModelLoader.ReadMoeConfig(dir)!;
        Assert.That((config.ResidualSize, config.ScaleFactors[0], config.Dense.IntermediateSize), Is.EqualTo((44, 4.0, 172)));
    }

    [Test]
    public void LlamaMoeV1DirectoryLoadsThroughTheLoaderWithIdenticalLogits()
    {
        using var moe = MoeTestModels.FromDense(dense!, 4, 2, 2.0, router: RouterNetwork.TanhMlp, weights: RoutingWeights.SoftmaxOverTopK, noisy: true);
        var dir = MoeTestModels.WriteLlamaMoeV1(moe, work!.Combine("v1"), experts: 4, topK: 2, expertSize: 43, scale: 2.0);
        using var loaded = CausalLanguageModelLoader.Load(dir);
        Assert.That(LlamaCppRunner.MaxAbsDiff(MoeTestModels.Logits(moe, MoeTestModels.TestIds), MoeTestModels.Logits(loaded, MoeTestModels.TestIds)), Is.EqualTo(0.0));
        var config = CausalLanguageModelLoader.ReadMoeConfig(dir)!;
        Assert.That(config.Router, Is.EqualTo(new MoeRouterSpec(RouterNetwork.TanhMlp, RoutingWeights.SoftmaxOverTopK, Noisy: true)));
        Assert.That(config.ExpertSizes.SelectMany(s => s), Is.All.EqualTo(43), "sizes from the weight headers");
        Assert.That(CausalLanguageModelLoader.ReadMoeConfig(denseDir), Is.Null, "a dense LLaMA has no MoE config");
    }

    [Test]
    public void AMixtralConfigContradictionIsLmoe1220AndANativeOneIsLmoe2202OnTheExportPathToo()
    {
        using var moe = MoeTestModels.FromDense(dense!, 4, 2, 1.0);
        using var checkpoint = MoeCheckpoint.FromModel(moe, MoeCheckpoint.ConfigOf(moe));
        var mixtral = work!.Combine("bad-mixtral");
        var native = work.Combine("bad-native");
        MixtralFormat.Write(checkpoint, mixtral);
        NativeMoeFormat.Write(checkpoint, native);
        SetConfigKey(mixtral, "num_experts_per_tok", 5);
        SetConfigKey(native, "num_experts_per_tok", 5);

        var mixtralError = Assert.Throws<LlamaMoeException>(() => CausalLanguageModelLoader.Load(mixtral))!;
        Assert.That((mixtralError.Code, mixtralError.Key), Is.EqualTo(("LMOE1220", "num_experts_per_tok")));
        Assert.That(mixtralError.FilePath, Is.EqualTo(Path.Combine(mixtral, "config.json")));
        Assert.That(Assert.Throws<LlamaMoeException>(() => ModelExporter.ReadMoe(native))!.Code, Is.EqualTo("LMOE2202"), "export reads native configs with MoeConfig");
        Assert.That(Assert.Throws<LlamaMoeException>(() => CausalLanguageModelLoader.Load(native))!.Code, Is.EqualTo("LMOE2202"));
    }

    [Test]
    public void LlamaMoeV2ExportWithAttentionMoeLoadsThroughTheLoaderWithTheSameLogits()
    {
        var llama = ConversionFixture.RandomLlama3(layers: 2) with { RopeScaling = null };
        var config = new MoeConfig
        {
            Dense = llama,
            ExpertCount = 4,
            TopK = 2,
            MoeLayers = [0, 1],
            ExpertSizes = [[12, 12, 12, 12], [12, 12, 12, 12]],
            ScaleFactors = [2.0, 2.0],
            AttentionMoe = AttentionMoeOptionsJson.Write(AttentionMoeOptions.ForAllLayers(llama, topK: 3, split: 2)),
        }.Validate();
        using var model = MoeModelFactory.Create(config);
        var generator = new Generator(11);
        using (no_grad())
        {
            foreach (var (_, parameter) in model.state_dict())
            {
                parameter.copy_(randn(parameter.shape, generator: generator).mul(0.3));
            }
        }

        model.eval();
        var dir = work!.Combine("v2-attention");
        using (var checkpoint = MoeCheckpoint.FromModel(model, MoeCheckpoint.ConfigOf(model)))
        {
            LlamaMoeV2Format.Write(checkpoint, dir);
        }

        using var loaded = CausalLanguageModelLoader.Load(dir);
        int[] ids = [0, 5, 17, 33, 64, 95, 2, 40];
        Assert.That(LlamaCppRunner.MaxAbsDiff(MoeTestModels.Logits(model, ids), MoeTestModels.Logits(loaded, ids)), Is.LessThan(1e-4));
        Assert.That(MoeModelFactory.MoeConfigOf(loaded)!.AttentionMoe!["num_experts"]!.GetValue<int>(), Is.EqualTo(4));
    }

    private static void SetConfigKey(string directory, string key, int value)
    {
        var path = Path.Combine(directory, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json[key] = value;
        File.WriteAllText(path, json.ToJsonString());
    }
}
