using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Testing;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Training;

public sealed class FlatAdamWTests
{
    [SetUp]
    public void Load() => TorchRuntime.EnsureLoaded();

    [Test]
    public void FlatUpdateMatchesTorchSharpAdamWWithTheSameDecayGroups()
    {
        var flatModel = new TinyMoeLanguageModel(seed: 5);
        var referenceModel = new TinyMoeLanguageModel(seed: 5);
        using var parameters = new TrainableParameters(flatModel, ParameterGroup.All, ComputePrecision.Float32);
        using var flat = new FlatAdamW(parameters, 0.9, 0.95, 1e-8, 0.1);
        var named = referenceModel.named_parameters().ToList();
        var decay = named.Where(p => ParameterClassifier.DecaysWeight(p.name, p.parameter.dim())).Select(p => p.parameter);
        var rest = named.Where(p => !ParameterClassifier.DecaysWeight(p.name, p.parameter.dim())).Select(p => p.parameter);
        using var reference = optim.AdamW(
            [new TorchSharp.Modules.AdamW.ParamGroup(decay, 1e-2, 0.9, 0.95, 1e-8, 0.1), new TorchSharp.Modules.AdamW.ParamGroup(rest, 1e-2, 0.9, 0.95, 1e-8, 0.0)],
            1e-2, 0.9, 0.95, 1e-8, 0.1);
        var ids = tensor(new long[] { 1, 5, 9, 2, 7, 3, 8, 4 }).view(2, 4); // (B, T)

        for (var step = 0; step < 3; step++)
        {
            parameters.ZeroGradients();
            flatModel.Forward(ids, null, null).square().mean().backward();
            flat.Step(1e-2);

            reference.zero_grad();
            referenceModel.Forward(ids, null, null).square().mean().backward();
            reference.step();
        }

        var updated = referenceModel.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in flatModel.named_parameters())
        {
            Assert.That(parameter.allclose(updated[name], rtol: 1e-5, atol: 1e-6), Is.True, name);
        }
    }

    [Test]
    public void BFloat16TrainingUpdatesNormWeightsAndTheReturnedModelUsesThem()
    {
        using var dir = new TempDirectory();
        torch.manual_seed(4);
        var config = new LlamaConfig
        {
            VocabSize = 32, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 64, RmsNormEps = 1e-5, TieWordEmbeddings = false, BosTokenId = 0, EosTokenIds = [1],
        }.Validate();
        using var model = new LlamaForCausalLM(config);
        var before = model.named_parameters().Where(p => p.name.EndsWith("norm.weight", StringComparison.Ordinal))
            .ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var options = new TrainerOptions { OutputDirectory = dir.Path, MaxSteps = 8, BatchSize = 4, LearningRate = 1e-2, WarmupSteps = 1, Precision = ComputePrecision.BFloat16 };

        new Trainer(model, options).Train(TrainingFixtures.Data());

        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(before.Keys, Has.Count.EqualTo(5));
        foreach (var (name, initial) in before)
        {
            Assert.That(after[name].dtype, Is.EqualTo(ScalarType.Float32), name);
            Assert.That(after[name].allclose(initial), Is.False, name + " did not train");
        }
    }
}
