using System.Composition;

namespace LlamaMoe.Pipeline;

/// <summary>
/// Exports a class as a pipeline step (a MEF export of <see cref="IPipelineStep"/>) with typed metadata:
/// <code>
/// [PipelineStep("split-mlp/magnitude", typeof(MagnitudeOptions), Description = "...", Version = "1",
///     Consumes = [ArtifactKinds.DenseModel], Produces = ArtifactKinds.ExpertPartition)]
/// public sealed class MagnitudeSplitStep : PipelineStep&lt;MagnitudeOptions&gt; { ... }
/// </code>
/// </summary>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class PipelineStepAttribute : ExportAttribute
{
    /// <summary>Exports the step under its YAML name with its options type.</summary>
    /// <param name="name">The YAML <c>uses:</c> name, kebab-case, optionally with a family prefix (<c>split-mlp/random</c>).</param>
    /// <param name="optionsType">The options class (derives from <see cref="StepOptions"/>, has a parameterless constructor).</param>
    public PipelineStepAttribute(string name, Type optionsType)
        : base(typeof(IPipelineStep))
    {
        Name = name;
        OptionsType = optionsType;
    }

    /// <summary>The YAML <c>uses:</c> name.</summary>
    public string Name { get; }

    /// <summary>The options class.</summary>
    public Type OptionsType { get; }

    /// <summary>One-line description shown by <c>llama-moe plugins</c> and in the schema.</summary>
    public string Description { get; set; } = string.Empty;

    /// <summary>The step's version; part of every stage key, so bump it when the step's output changes.</summary>
    public string Version { get; set; } = "1";

    /// <summary>Artifact kinds (<see cref="ArtifactKinds"/>) the step reads from the stages it needs; empty means any.</summary>
    public string[] Consumes { get; set; } = [];

    /// <summary>The artifact kind the step writes (<see cref="ArtifactKinds"/>).</summary>
    public string Produces { get; set; } = ArtifactKinds.Files;
}
