using LlamaMoe.Modeling.Llama;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Export;

/// <summary>
/// A test fixture that imports stories260K once into <c>Work/dense</c> and holds it loaded as <see cref="Dense"/>, for
/// tests that build MoE models from it and write them in some format.
/// </summary>
/// <param name="workName">The name of the fixture's temporary folder.</param>
public abstract class ImportedDenseFixture(string workName)
{
    /// <summary>The fixture's temporary folder; the dense model is in its <c>dense</c> folder.</summary>
    protected TempDirectory Work { get; private set; } = null!;

    /// <summary>The imported dense model.</summary>
    protected LlamaForCausalLM Dense { get; private set; } = null!;

    /// <summary>Imports and loads the dense model.</summary>
    [OneTimeSetUp]
    public void ImportDense()
    {
        TorchRuntime.EnsureLoaded();
        Work = new TempDirectory(workName);
        Dense = LlamaForCausalLM.FromDirectory(MoeTestModels.ImportStories(Work.Combine("dense")));
    }

    /// <summary>Releases the model and deletes the folder.</summary>
    [OneTimeTearDown]
    public void Cleanup()
    {
        Dense?.Dispose();
        Work?.Dispose();
    }
}
