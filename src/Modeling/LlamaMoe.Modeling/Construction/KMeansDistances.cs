using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Construction;

/// <summary>
/// Squared distances from every point to a set of centroids for <see cref="BalancedKMeans"/>: on the host with
/// <see cref="BalancedKMeans.SquaredDistances"/>, or on a CUDA device where the points are uploaded once and each call is
/// <c>‖x‖² − 2·x·cᵀ + ‖c‖²</c> as one matmul, with only the <c>(N, k)</c> result read back.
/// </summary>
internal sealed class KMeansDistances : IDisposable
{
    private readonly float[] data;
    private readonly int points;
    private readonly int dimension;
    private readonly Tensor? devicePoints;
    private readonly Tensor? deviceNorms;

    /// <summary>Prepares the kernel; uploads the points when <paramref name="device"/> is a CUDA device.</summary>
    public KMeansDistances(float[] data, int points, int dimension, Device? device)
    {
        this.data = data;
        this.points = points;
        this.dimension = dimension;
        if (device is { type: DeviceType.CUDA })
        {
            using var scope = NewDisposeScope();
            devicePoints = tensor(data, [points, dimension]).to(device).DetachFromDisposeScope(); // (N, D)
            deviceNorms = devicePoints.square().sum(1, keepdim: true).DetachFromDisposeScope(); // (N, 1)
        }
    }

    /// <summary>Row-major <c>(N, k)</c> squared distances to the <paramref name="clusters"/> row-major centroids, clamped at 0.</summary>
    public float[] SquaredDistances(float[] centroids, int clusters)
    {
        if (devicePoints is null || deviceNorms is null)
        {
            return BalancedKMeans.SquaredDistances(data, points, dimension, centroids, clusters);
        }

        using var scope = NewDisposeScope();
        var c = tensor(centroids, [clusters, dimension]).to(devicePoints.device); // (k, D)
        var cross = devicePoints.matmul(c.t()); // (N, k)
        var distances = deviceNorms.sub(cross.mul(2)).add(c.square().sum(1).unsqueeze(0)).clamp_min(0); // (N, k)
        return distances.cpu().data<float>().ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        devicePoints?.Dispose();
        deviceNorms?.Dispose();
    }
}
