using LlamaMoe.Construction;
using NUnit.Framework;

namespace LlamaMoe.Core.Tests;

/// <summary>Typed calibration statistics: what is missing is a coded error naming the layer.</summary>
public sealed class LayerStatisticsTests
{
    [Test]
    public void MissingImportanceOrCoactivationIsTheCalibrationRequiredCode()
    {
        var statistics = new LayerStatistics(new float[8], Coactivation: null, Importance: null);

        var importance = Assert.Throws<LlamaMoeException>(() => statistics.RequireImportance(3));
        var coactivation = Assert.Throws<LlamaMoeException>(() => statistics.RequireCoactivation(3));

        Assert.That(importance!.Code, Is.EqualTo(CoreErrorCodes.CalibrationRequired));
        Assert.That(importance.Message, Does.Contain("layer 3").And.Contain("importance"));
        Assert.That(coactivation!.Code, Is.EqualTo(CoreErrorCodes.CalibrationRequired));
        Assert.That(statistics.Neurons, Is.EqualTo(8));
    }

    [Test]
    public void PresentStatisticsAreReturnedAsGiven()
    {
        float[] graph = [1, 0, 0, 1];
        var statistics = new LayerStatistics([0.5f, 0.25f], graph, [[1f, 2f]]);

        Assert.That(statistics.RequireCoactivation(0), Is.SameAs(graph));
        Assert.That(statistics.RequireImportance(0), Has.Count.EqualTo(1));
    }
}
