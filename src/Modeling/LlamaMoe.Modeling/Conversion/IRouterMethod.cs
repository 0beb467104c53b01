using LlamaMoe.Construction;
using LlamaMoe.Modeling.Calibration;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>Tuning of the k-means router initialisation (defaults are v2's).</summary>
/// <param name="Jitter">Cluster-size jitter: sizes within N/E·(1 ± jitter).</param>
/// <param name="Restarts">k-means++ restarts.</param>
/// <param name="Iterations">Lloyd iterations per restart.</param>
/// <param name="ReuseCentroids">Use the calibration's centroids when they have E rows (an importance pass computed them).</param>
public sealed record KMeansRouterSettings(double Jitter = 0.4, int Restarts = 16, int Iterations = 100, bool ReuseCentroids = true);

/// <summary>Everything a router initialisation needs for one layer.</summary>
/// <param name="Layer">The decoder layer index.</param>
/// <param name="Experts">Routed experts E (router rows).</param>
/// <param name="Hidden">H.</param>
/// <param name="Seed">The layer's seed (<see cref="LlamaMoe.Construction.ConstructionSeed.ForLayer"/>).</param>
/// <param name="Calibration">The layer's calibration statistics, or null when not calibrated.</param>
/// <param name="Device">Where the tensor work runs; null for the CPU.</param>
public sealed record RouterRequest(int Layer, int Experts, int Hidden, int Seed, LayerCalibration? Calibration, Device? Device = null)
{
    /// <summary>The k-means tuning.</summary>
    public KMeansRouterSettings KMeans { get; init; } = new();

    /// <summary>The layer's calibration (LMOE2207 when absent).</summary>
    public LayerCalibration RequireCalibration() => Calibration
        ?? throw new LlamaMoeException(MoeModel.ConstructionErrorCodes.CalibrationRequired, $"router initialisation of layer {Layer} needs calibration hidden states", key: "calibration",
            advice: "Calibrate first (convert --calibration FILE, or a calibrate stage in needs).");
}

/// <summary>One layer's initialised router.</summary>
/// <param name="Weight">Router rows <c>(E, H)</c> on the CPU.</param>
/// <param name="Assignment">Each calibration hidden state's cluster <c>(N)</c> when the method has one, else null.</param>
public sealed record RouterInit(Tensor Weight, Tensor? Assignment);

/// <summary>
/// One way to initialise a layer's router. Registered once in <see cref="ConstructionMethods"/>; <c>convert --router</c>
/// and the <c>router-init/*</c> steps both resolve it there.
/// </summary>
public interface IRouterMethod
{
    /// <summary>The method's name (<c>--router NAME</c>, <c>router-init/NAME</c>).</summary>
    string Name { get; }

    /// <summary>Whether the method reads calibration hidden states.</summary>
    bool NeedsCalibration { get; }

    /// <summary>Whether the method wants the calibration to compute E centroids (k-means).</summary>
    bool NeedsCentroids { get; }

    /// <summary>Initialises one layer's router; tensors are created in the caller's dispose scope.</summary>
    RouterInit Initialize(RouterRequest request);
}
