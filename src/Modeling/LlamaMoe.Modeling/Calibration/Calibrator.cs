using LlamaMoe.Modeling.Construction;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Calibration;

/// <summary>
/// Runs a dense model over calibration sequences (one at a time, no padding) and records, per layer: a seeded
/// reservoir sample of the MLP inputs, per-neuron mean |h| and firing frequency of the SwiGLU intermediate h, optionally
/// the co-activation graph, and optionally v2's per-cluster importance |h·∂L/∂h| (spec §1.2 E2; a second pass with the
/// LM loss on the masked targets and a backward pass, clusters from <see cref="RouterInitialization.AssignClusters"/>).
/// </summary>
public static class Calibrator
{
    /// <summary>Calibrates <paramref name="model"/> (dense) on <paramref name="samples"/>.</summary>
    /// <exception cref="LlamaMoeException">LMOE2210 when there are no tokens; LMOE2209 when the model is not dense.</exception>
    public static CalibrationArtifact Run(LlamaForCausalLM model, IReadOnlyList<EncodedExample> samples, CalibrationOptions options, CancellationToken cancellationToken = default)
    {
        var config = model.Config;
        var layers = config.NumHiddenLayers;
        var device = model.Device;
        if (samples.Count == 0 || samples.All(s => s.Length == 0))
        {
            throw new LlamaMoeException(ConstructionErrorCodes.CalibrationDataEmpty, "no calibration tokens", advice: "Pass calibration data.");
        }

        var wasTraining = model.training;
        model.eval();
        try
        {
            var (hiddenStates, absSums, positives, graphs, tokens) = ActivationPass(model, samples, options, cancellationToken);
            var centroids = new Tensor?[layers];
            var importance = new ImportanceAccumulator?[layers];
            if (options.ImportanceClusters > 0)
            {
                for (var i = 0; i < layers; i++)
                {
                    centroids[i] = options.Centroids is { } given
                        ? tensor(given[i], new long[] { options.ImportanceClusters, config.HiddenSize }, ScalarType.Float32)
                        : RouterInitialization.KMeansCentroids(hiddenStates[i], options.ImportanceClusters, options.KMeans?.Invoke((int)hiddenStates[i].shape[0])).Centroids.cpu();
                }

                importance = ImportancePass(model, samples, centroids!, cancellationToken);
            }

            var result = new List<LayerCalibration>();
            var count = (double)Math.Max(1, tokens);
            for (var i = 0; i < layers; i++)
            {
                result.Add(new LayerCalibration(
                    Owned(hiddenStates[i], 1.0),
                    Owned(absSums[i], 1.0 / count),
                    Owned(positives[i], 1.0 / count),
                    graphs?[i] is { } graph ? tensor(graph.ToArray(), new long[] { config.IntermediateSize, config.IntermediateSize }).DetachFromDisposeScope() : null,
                    centroids[i] is { } centroid ? Owned(centroid, 1.0) : null,
                    importance[i] is { } scores ? Owned(scores.Scores(), 1.0) : null,
                    importance[i] is { } acc ? tensor(acc.TokenCounts().Select(c => (double)c).ToArray()).DetachFromDisposeScope() : null));
                graphs?[i].Dispose();
                importance[i]?.Dispose();
                centroids[i]?.Dispose();
                hiddenStates[i].Dispose();
                absSums[i].Dispose();
                positives[i].Dispose();
            }

            return new CalibrationArtifact(config.HiddenSize, config.IntermediateSize, tokens, samples.Count, result);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    // A float32 CPU copy times factor, owned by no dispose scope (the source stays the caller's).
    private static Tensor Owned(Tensor source, double factor)
    {
        using var scope = NewDisposeScope();
        return source.detach().to(ScalarType.Float64).mul(factor).to(ScalarType.Float32).cpu().clone().DetachFromDisposeScope();
    }

    private static (Tensor[] Hidden, Tensor[] AbsSums, Tensor[] Positives, CoactivationGraph[]? Graphs, long Tokens) ActivationPass(
        LlamaForCausalLM model, IReadOnlyList<EncodedExample> samples, CalibrationOptions options, CancellationToken cancellationToken)
    {
        var config = model.Config;
        var device = model.Device;
        var layers = config.NumHiddenLayers;
        using var reservoir = new HiddenStateReservoir(layers, options.MaxHiddenStates, config.HiddenSize, options.Seed, device);
        var absSums = Enumerable.Range(0, layers).Select(_ => zeros(new long[] { config.IntermediateSize }, ScalarType.Float64, device).DetachFromDisposeScope()).ToArray();
        var positives = Enumerable.Range(0, layers).Select(_ => zeros(new long[] { config.IntermediateSize }, ScalarType.Float64, device).DetachFromDisposeScope()).ToArray();
        var graphs = options.Coactivation ? Enumerable.Range(0, layers).Select(_ => new CoactivationGraph(config.IntermediateSize, device: device)).ToArray() : null;
        long tokens = 0;
        using var noGrad = no_grad();
        foreach (var sample in samples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var ids = tensor(sample.Ids.Select(id => (long)id).ToArray(), device: device).unsqueeze(0); // (1, T)
            var (_, inputs, intermediates) = CalibrationForward.Run(model, ids, leafIntermediates: false);
            var (keep, slots) = reservoir.Draw(sample.Length);
            for (var i = 0; i < layers; i++)
            {
                reservoir.Store(i, inputs[i], keep, slots);
                var h = intermediates[i][0].to(ScalarType.Float64); // (T, I)
                absSums[i].add_(h.abs().sum(0L));
                positives[i].add_(h.gt(0).to(ScalarType.Float64).sum(0L));
                graphs?[i].Add(intermediates[i][0]);
            }

            tokens += sample.Length;
        }

        return (reservoir.Take(), absSums, positives, graphs, tokens);
    }

    private static ImportanceAccumulator?[] ImportancePass(LlamaForCausalLM model, IReadOnlyList<EncodedExample> samples, Tensor[] centroids, CancellationToken cancellationToken)
    {
        var config = model.Config;
        var device = model.Device;
        var accumulators = centroids.Select(c => (ImportanceAccumulator?)new ImportanceAccumulator((int)c.shape[0], config.IntermediateSize)).ToArray();
        using var onDevice = NewDisposeScope();
        var deviceCentroids = centroids.Select(c => c.to(device)).ToArray(); // L × (E, H), copied once
        var parameters = model.parameters().ToList();
        var required = parameters.Select(p => p.requires_grad).ToList();
        parameters.ForEach(p => p.requires_grad_(false));
        try
        {
            foreach (var sample in samples.Where(s => s.LossMask.Skip(1).Any(m => m)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var ids = tensor(sample.Ids.Select(id => (long)id).ToArray(), device: device).unsqueeze(0); // (1, T)
                var (logits, inputs, intermediates) = CalibrationForward.Run(model, ids, leafIntermediates: true);
                var t = sample.Length;
                var predictions = logits[0].narrow(0, 0, t - 1).to(ScalarType.Float32); // (T-1, V)
                var targets = ids[0].narrow(0, 1, t - 1); // (T-1)
                var mask = tensor(sample.LossMask.Skip(1).ToArray(), device: device); // (T-1)
                var nll = nn.functional.cross_entropy(predictions, targets, reduction: nn.Reduction.None); // (T-1)
                var loss = nll.masked_select(mask).mean();
                loss.backward();
                for (var i = 0; i < intermediates.Length; i++)
                {
                    var h = intermediates[i][0]; // (T, I)
                    var clusters = RouterInitialization.AssignClusters(inputs[i], deviceCentroids[i]); // (T)
                    accumulators[i]!.Add(h, intermediates[i].grad![0], clusters);
                }
            }
        }
        finally
        {
            for (var i = 0; i < parameters.Count; i++)
            {
                parameters[i].requires_grad_(required[i]);
            }
        }

        return accumulators;
    }
}
