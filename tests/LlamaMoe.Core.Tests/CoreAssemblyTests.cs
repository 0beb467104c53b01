using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using LlamaMoe.Construction;
using NUnit.Framework;

namespace LlamaMoe.Core.Tests;

/// <summary>LlamaMoe.Core stays small: plugin contracts and the model library share it without pulling in TorchSharp.</summary>
public sealed class CoreAssemblyTests
{
    [Test]
    public void TheCoreAssemblyReferencesNeitherTorchSharpNorAnyLlamaMoeAssembly()
    {
        var references = ReferencedAssemblies(typeof(ExpertPartition).Assembly.Location);

        Assert.That(references, Is.Not.Empty, "the metadata was read");
        Assert.That(references, Has.None.StartsWith("TorchSharp"));
        Assert.That(references, Has.None.StartsWith("LlamaMoe"), "Core is the bottom of the graph");
        Assert.That(references.Where(name => !IsFramework(name)), Is.Empty, "only the .NET runtime");
    }

    [Test]
    public void TheCoreAssemblyShipsNoTorchSharpNativesBesideIt()
    {
        var folder = Path.GetDirectoryName(typeof(ExpertPartition).Assembly.Location)!;
        var deps = File.ReadAllText(Path.Combine(folder, "LlamaMoe.Core.Tests.deps.json"));

        Assert.That(deps, Does.Not.Contain("TorchSharp"), "nothing in the test's dependency graph comes from Core's references");
    }

    private static List<string> ReferencedAssemblies(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return metadata.AssemblyReferences.Select(handle => metadata.GetString(metadata.GetAssemblyReference(handle).Name)).ToList();
    }

    private static bool IsFramework(string name) => name is "System" or "netstandard" or "mscorlib" || name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.Win32", StringComparison.Ordinal);
}
