using LlamaMoe.Pipeline;
using LlamaMoe.Pipeline.Splitting;

namespace SnakeSplitter;

/// <summary>
/// The <c>fixture/random-mlp</c> step: a dense model of random SwiGLU MLP weights in the engine's MLP-weights folder
/// format, from the pipeline seed. It stands in for a real checkpoint so the sample builds in a second.
/// </summary>
[PipelineStep("fixture/random-mlp", typeof(RandomMlpOptions),
    Description = "Random SwiGLU MLP weights (MLP-weights folder format) for demos and tests.",
    Version = "1",
    Produces = ArtifactKinds.DenseModel)]
public sealed class RandomMlpStep : PipelineStep<RandomMlpOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, RandomMlpOptions options, CancellationToken cancellationToken)
    {
        var random = new Random(context.Seed);
        var scale = 1.0 / Math.Sqrt(options.Hidden);
        var layers = new List<MlpLayerWeights>();
        for (var layer = 0; layer < options.Layers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = options.Hidden * options.Intermediate;
            layers.Add(new MlpLayerWeights(layer, options.Hidden, options.Intermediate,
                Normal(random, count, scale), Normal(random, count, scale), Normal(random, count, scale)));
            context.Progress.Report(layer + 1, options.Layers, $"layer {layer}");
        }

        MlpWeightsFolder.Write(context.OutputDirectory, layers);
        return Task.CompletedTask;
    }

    // Box-Muller: pairs of uniforms to standard normals, scaled.
    private static float[] Normal(Random random, int count, double scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = (float)(scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return values;
    }
}
