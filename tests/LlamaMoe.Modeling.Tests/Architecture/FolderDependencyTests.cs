using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Architecture;

/// <summary>The top-level folders of the Modeling assembly depend on each other one way only.</summary>
[TestFixture]
public sealed class FolderDependencyTests
{
    private const string ModelingNamespace = "LlamaMoe.Modeling";

    private static FolderGraph ReadModelingGraph() =>
        FolderGraph.Build(TypeReferenceCollector.Read(typeof(LlamaForCausalLM).Assembly.Location), ModelingNamespace);

    [Test]
    public void ModelingFoldersHaveNoDependencyCycle()
    {
        var graph = ReadModelingGraph();
        foreach (var folder in graph.Folders)
        {
            TestContext.Out.WriteLine($"{folder} -> {string.Join(", ", graph.DependenciesOf(folder))}");
        }

        var cycles = graph.FindCycles();

        Assert.That(cycles, Is.Empty, "folder cycles in LlamaMoe.Modeling:" + Environment.NewLine +
            string.Join(Environment.NewLine, cycles.Select(graph.Describe)));
    }

    [Test]
    public void ReaderSeesUsesThroughSignaturesAndMethodBodies()
    {
        var uses = TypeReferenceCollector.Read(typeof(LlamaForCausalLM).Assembly.Location);
        var model = new TypeName(typeof(LlamaForCausalLM).Namespace!, nameof(LlamaForCausalLM));

        Assert.That(uses[model], Does.Contain(new TypeName(typeof(LlamaModel).Namespace!, nameof(LlamaModel))));
        Assert.That(uses[model], Does.Contain(new TypeName(typeof(LlamaConfig).Namespace!, nameof(LlamaConfig))));
    }

    [Test]
    public void CycleIsReportedWithTheTypesThatCauseEachEdge()
    {
        static TypeName Type(string folder, string name) => new($"{ModelingNamespace}.{folder}", name);
        var uses = new Dictionary<TypeName, IReadOnlySet<TypeName>>
        {
            [Type("A", "Alpha")] = new HashSet<TypeName> { Type("B", "Beta") },
            [Type("B", "Beta")] = new HashSet<TypeName> { Type("C.Inner", "Gamma") },
            [Type("C.Inner", "Gamma")] = new HashSet<TypeName> { Type("A", "Alpha") },
            [Type("D", "Delta")] = new HashSet<TypeName> { Type("A", "Alpha"), new("System", "String") },
        };

        var graph = FolderGraph.Build(uses, ModelingNamespace);
        var cycles = graph.FindCycles();

        Assert.That(cycles, Has.Count.EqualTo(1));
        Assert.That(cycles[0], Is.EqualTo(new[] { "A", "B", "C", "A" }));
        Assert.That(graph.Describe(cycles[0]), Does.Contain("C -> A: LlamaMoe.Modeling.C.Inner.Gamma uses LlamaMoe.Modeling.A.Alpha"));
    }

    [Test]
    public void AcyclicFoldersReportNoCycle()
    {
        static TypeName Type(string folder, string name) => new($"{ModelingNamespace}.{folder}", name);
        var uses = new Dictionary<TypeName, IReadOnlySet<TypeName>>
        {
            [Type("A", "Alpha")] = new HashSet<TypeName> { Type("B", "Beta"), new(ModelingNamespace, "Root") },
            [Type("B", "Beta")] = new HashSet<TypeName> { new(ModelingNamespace, "Root") },
        };

        var graph = FolderGraph.Build(uses, ModelingNamespace);

        Assert.That(graph.FindCycles(), Is.Empty);
        Assert.That(graph.DependenciesOf("A"), Is.EqualTo(new[] { FolderGraph.RootFolder, "B" }));
    }
}
