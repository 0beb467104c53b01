using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Architecture;

/// <summary>The top-level folders of the Modeling assembly depend on each other one way only.</summary>
[TestFixture]
public sealed class FolderDependencyTests
{
    private const string ModelingNamespace = "LlamaMoe.Modeling";

    private static string ModelingSourceDirectory => Path.Combine(RepositoryPaths.Root, "src", "Modeling", "LlamaMoe.Modeling");

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

    /// <summary>
    /// The same check over the source files as well: the compiler inlines constants, so the assembly holds no trace of
    /// a folder naming another folder's error code or tensor name. Until ConstructionErrorCodes moved to LlamaMoe.Core,
    /// Moe (SparseMoeBlockOptions) and Construction used that catalogue in MoeModel while MoeModel builds Moe blocks:
    /// a cycle Moe -> MoeModel -> Moe that only this test sees. Using directives count even when unused, so a stale
    /// one must go.
    /// </summary>
    [Test]
    public void ModelingFoldersHaveNoDependencyCycleCountingConstantsAndUsings()
    {
        var assemblyUses = TypeReferenceCollector.Read(typeof(LlamaForCausalLM).Assembly.Location);
        var sourceUses = SourceReferenceCollector.Read(ModelingSourceDirectory, ModelingNamespace, assemblyUses.Keys);
        Assert.That(sourceUses, Has.Count.GreaterThan(100), "the Modeling sources were not found at " + ModelingSourceDirectory);

        var graph = FolderGraph.Build(assemblyUses.Concat(sourceUses).ToDictionary(), ModelingNamespace);
        var cycles = graph.FindCycles();

        Assert.That(cycles, Is.Empty, "folder cycles in LlamaMoe.Modeling (assembly and source):" + Environment.NewLine +
            string.Join(Environment.NewLine, cycles.Select(graph.Describe)));
    }

    [Test]
    public void SourceReaderSeesUsingsQualifiedNamesAndRootTypesButNotCommentsOrStrings()
    {
        static TypeName Type(string folder, string name) => new($"{ModelingNamespace}.{folder}", name);
        var known = new[] { Type("MoeModel", "ErrorCodes"), Type("Data", "Record"), new TypeName(ModelingNamespace, "TorchCodes") };
        const string Source = """
            using System;
            using LlamaMoe.Modeling.Llama;
            using static LlamaMoe.Modeling.Formats.Reader;
            using Alias = LlamaMoe.Modeling.Config.Options;

            namespace LlamaMoe.Modeling.Moe;

            // LlamaMoe.Modeling.Export.Commented is a comment
            /// <see cref="LlamaMoe.Modeling.Export.Cref"/>
            public static class Block
            {
                private const string A = MoeModel.ErrorCodes.OutOfRange;
                private const string B = TorchCodes.Native;
                private static readonly Type C = typeof(Modeling.Training.Trainer);
                private static readonly string D = "LlamaMoe.Modeling.Export.InAString" + @"Data.Record" + $"{'"'}{{{LlamaMoe.Modeling.Chat.Template.Name}}}";
                private static int E => Data.Count + global::LlamaMoe.Modeling.Generation
                    .Sampler.Top;
            }
            """;

        var (fileNamespace, uses) = SourceReferenceCollector.ReadText(Source, ModelingNamespace, known);
        var folders = FolderGraph.Build(new Dictionary<TypeName, IReadOnlySet<TypeName>> { [new(fileNamespace!, "(file)")] = uses }, ModelingNamespace);

        Assert.That(fileNamespace, Is.EqualTo($"{ModelingNamespace}.Moe"));
        Assert.That(folders.DependenciesOf("Moe"), Is.EqualTo(new[]
        {
            FolderGraph.RootFolder, "Chat", "Config", "Formats", "Generation", "Llama", "MoeModel", "Training",
        }));
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
