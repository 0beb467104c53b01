using LlamaMoe.Modeling.Conversion;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.Synthetic;
using static TorchSharp.torch;

namespace LlamaMoe.Benchmarks.SideBySide;

/// <summary>
/// The two models of the side-by-side benchmark, built once as model directories with the project's own code: a random
/// dense LLaMA (<see cref="RandomDenseCheckpoint"/>) and the MoE the real converter makes from it (sequential split of
/// every MLP into E experts of I/E, random router, top-k; <see cref="MoeConverter"/>). Every case loads a fresh float32
/// copy, so no case sees weights, optimizer state or dtypes another case left behind.
/// </summary>
public sealed class SideBySideModels
{
    private readonly Dictionary<string, string> directories = new(StringComparer.Ordinal);

    private SideBySideModels(TrainingShape shape) => Shape = shape;

    /// <summary>The shapes the models were built with.</summary>
    public TrainingShape Shape { get; }

    /// <summary>Writes the dense checkpoint and converts it into the MoE under <paramref name="folder"/>.</summary>
    public static SideBySideModels Build(TrainingShape shape, string folder)
    {
        var models = new SideBySideModels(shape);
        var dense = Path.Combine(folder, "dense");
        RandomDenseCheckpoint.Write(dense, shape.DenseConfig(), seed: 1);
        models.directories["dense"] = dense;

        var options = new ConstructionOptions(shape.Experts, shape.TopK, "sequential", Seed: 1);
        var moe = Path.Combine(folder, "moe");
        MoeConverter.Convert(dense, moe, ConstructionPlanner.Plan(dense, options, null), ConstructionPlanner.ConversionOptions(options));
        models.directories["moe"] = moe;
        return models;
    }

    /// <summary>Loads model <paramref name="name"/> (<c>dense</c> or <c>moe</c>) as float32 onto <paramref name="device"/>, in training mode.</summary>
    public LlamaForCausalLM Load(string name, Device device)
    {
        var model = CausalLanguageModelLoader.Load(directories[name], device, ScalarType.Float32);
        model.train();
        return model;
    }

    /// <summary>
    /// Parameters a token uses, without the embedding table: every other parameter (attention, norms, router, LM head),
    /// with the routed experts' parameters (names holding <c>.experts.</c>) counted k/E.
    /// </summary>
    public long ActiveNonEmbeddingParameters(LlamaForCausalLM model)
    {
        var total = 0L;
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.Contains("embed_tokens", StringComparison.Ordinal))
            {
                continue;
            }

            total += name.Contains(".experts.", StringComparison.Ordinal) ? parameter.numel() * Shape.TopK / Shape.Experts : parameter.numel();
        }

        return total;
    }
}
