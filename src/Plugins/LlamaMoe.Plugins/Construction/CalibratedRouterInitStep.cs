using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Calibration;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Construction;

/// <summary>
/// Base of the router initialisers that read calibration hidden states (<c>router-init/kmeans</c>,
/// <c>router-init/tokens</c>): loads the stage's calibration input, asks <see cref="InitializeLayer"/> for every layer's
/// router rows (and optionally each calibration token's cluster), reports progress per layer and writes the router
/// weights artifact.
/// </summary>
/// <typeparam name="TOptions">The options.</typeparam>
public abstract class CalibratedRouterInitStep<TOptions> : PipelineStep<TOptions>
    where TOptions : RouterInitOptions
{
    /// <summary>The initialisation's name recorded in the artifact (<c>kmeans</c>, <c>tokens</c>).</summary>
    protected abstract string InitName { get; }

    /// <summary>
    /// Router rows <c>(E, H)</c> for one layer, and optionally every calibration token's cluster <c>(N)</c>; tensors are
    /// created in the caller's dispose scope.
    /// </summary>
    /// <param name="layer">The layer's calibration statistics.</param>
    /// <param name="options">The step options.</param>
    /// <param name="layerSeed">The seed of this layer (the step seed plus the layer index).</param>
    /// <param name="device">The run's device, where the layer's tensor work belongs.</param>
    /// <returns>The router rows <c>(E, H)</c> and, when the method has one, each hidden state's cluster <c>(N)</c>, on the CPU.</returns>
    protected abstract (Tensor Router, Tensor? Assignment) InitializeLayer(LayerCalibration layer, TOptions options, long layerSeed, Device device);

    /// <inheritdoc />
    protected sealed override Task RunAsync(IStepContext context, TOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var calibration = CalibrationInput.Load(context, "its hidden states");
        var seed = options.ResolveSeed(context);
        var device = ModelArtifacts.DeviceOf(context);
        using var scope = NewDisposeScope();
        var weights = new List<Tensor>();
        var assignments = new List<Tensor>();
        for (var layer = 0; layer < calibration.Layers.Count; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (router, assignment) = InitializeLayer(calibration.Layers[layer], options, seed + layer, device);
            weights.Add(router); // (E, H)
            if (assignment is not null)
            {
                assignments.Add(assignment); // (N)
            }

            context.Progress.Report(layer + 1, calibration.Layers.Count, $"layer {layer}");
        }

        RouterWeightsArtifact.Write(context.OutputDirectory, InitName, weights, assignments.Count == 0 ? null : assignments);
        context.Outputs["experts"] = options.Experts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    }
}
