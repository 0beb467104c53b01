using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Diagnostics;
using LlamaMoe.Pipeline.Execution;

namespace LlamaMoe.Cli.Commands;

/// <summary>What the pipeline commands share: loading with --var/--store/--device, and printing diagnostics.</summary>
internal static class PipelineCommandSupport
{
    /// <summary>Options every pipeline command accepts.</summary>
    public const string CommonUsage = "[--var NAME=VALUE]... [--store DIR] [--device auto|cpu|cuda]";

    /// <summary>Reads the common options.</summary>
    public static PipelineLoadSettings Settings(CliArguments arguments)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var assignment in arguments.Options("var"))
        {
            var eq = assignment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliUsageException($"--var expects NAME=VALUE, got '{assignment}'");
            }

            vars[assignment[..eq]] = assignment[(eq + 1)..];
        }

        var device = arguments.Option("device");
        if (device is not (null or "auto" or "cpu" or "cuda"))
        {
            throw new CliUsageException($"--device expects auto, cpu or cuda, got '{device}'");
        }

        return new PipelineLoadSettings { VariableOverrides = vars, StoreOverride = arguments.Option("store"), DeviceOverride = device };
    }

    /// <summary>Loads and validates; prints every diagnostic to stderr and returns null when invalid.</summary>
    public static LoadedPipeline? Load(string path, PipelineLoadSettings settings)
    {
        var result = PipelineLoader.Load(path, settings);
        PrintDiagnostics(result.Diagnostics);
        return result.Pipeline;
    }

    /// <summary>Prints diagnostics in the canonical MSBuild form on stderr.</summary>
    public static void PrintDiagnostics(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Console.Error.WriteLine(diagnostic.ToString());
        }
    }

    /// <summary>Prints the non-engine plugin assemblies that were loaded.</summary>
    public static void PrintLoadedAssemblies(LoadedPipeline pipeline, TextWriter writer)
    {
        foreach (var assembly in pipeline.Catalog.Assemblies)
        {
            var name = assembly.GetName();
            writer.WriteLine($"plugins: loaded {name.Name} {name.Version} from {(string.IsNullOrEmpty(assembly.Location) ? "(in memory)" : assembly.Location)}");
        }
    }
}
