using System.Composition;
using System.Reflection;

namespace LlamaMoe.Pipeline.Plugins;

/// <summary>A discovered step: its export metadata and a factory creating a fresh instance per stage run.</summary>
public sealed class PluginDescriptor
{
    private readonly ExportFactory<IPipelineStep> factory;

    internal PluginDescriptor(PipelineStepAttribute metadata, Type stepType, ExportFactory<IPipelineStep> factory)
    {
        this.factory = factory;
        Name = metadata.Name;
        Description = metadata.Description;
        OptionsType = metadata.OptionsType;
        Version = metadata.Version;
        Consumes = metadata.Consumes;
        Produces = metadata.Produces;
        StepType = stepType;
    }

    /// <summary>The YAML <c>uses:</c> name.</summary>
    public string Name { get; }

    /// <summary>The description.</summary>
    public string Description { get; }

    /// <summary>The options class.</summary>
    public Type OptionsType { get; }

    /// <summary>The version (part of stage keys).</summary>
    public string Version { get; }

    /// <summary>Consumed artifact kinds (empty: any).</summary>
    public IReadOnlyList<string> Consumes { get; }

    /// <summary>Produced artifact kind.</summary>
    public string Produces { get; }

    /// <summary>The implementing type.</summary>
    public Type StepType { get; }

    /// <summary>The assembly that exports it.</summary>
    public Assembly Assembly => StepType.Assembly;

    /// <summary>A file name for messages (the assembly's location or name).</summary>
    public string AssemblyDisplayName => string.IsNullOrEmpty(Assembly.Location) ? Assembly.GetName().Name! : Assembly.Location;

    /// <summary>Creates a new step instance; dispose the export after the run.</summary>
    public Export<IPipelineStep> Create() => factory.CreateExport();
}
