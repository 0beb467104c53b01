using System.Composition;
using LlamaMoe.Pipeline.Splitting;

namespace LlamaMoe.Pipeline.Services;

/// <summary>The built-in weight source for the <see cref="MlpWeightsFolder"/> format.</summary>
[Export(typeof(IMlpWeightSource))]
public sealed class MlpWeightsFolderSource : IMlpWeightSource
{
    /// <inheritdoc />
    public bool CanRead(string modelDirectory) => MlpWeightsFolder.IsMlpWeightsFolder(modelDirectory);

    /// <inheritdoc />
    public IMlpWeightReader Open(string modelDirectory) => MlpWeightsFolder.Open(modelDirectory);
}
