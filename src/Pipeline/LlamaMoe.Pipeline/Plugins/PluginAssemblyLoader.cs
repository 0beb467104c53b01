using System.Collections.Concurrent;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;

namespace LlamaMoe.Pipeline.Plugins;

/// <summary>
/// Loads plugin assemblies into the default load context (so they share Abstractions, System.Composition and
/// TorchSharp with the host; a private copy of Abstractions would make MEF find no exports). A <c>Resolving</c>
/// handler finds plugin-private dependencies in the plugin folders.
/// </summary>
public static class PluginAssemblyLoader
{
    private const string AbstractionsName = "LlamaMoe.Pipeline.Abstractions";
    private static readonly ConcurrentDictionary<string, byte> ProbeDirectories = new(StringComparer.Ordinal);
    private static int resolverInstalled;

    /// <summary>The plugin assemblies in a folder: those that reference the Abstractions assembly (other files there are private dependencies).</summary>
    public static IReadOnlyList<string> PluginFilesIn(string directory) =>
        Directory.EnumerateFiles(directory, "*.dll").Order(StringComparer.Ordinal).Where(ReferencesAbstractions).ToList();

    /// <summary>Loads one assembly (or returns the already loaded assembly of that name).</summary>
    public static Assembly Load(string path)
    {
        InstallResolver();
        ProbeDirectories.TryAdd(Path.GetDirectoryName(path)!, 0);
        var name = AssemblyName.GetAssemblyName(path);
        var loaded = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => string.Equals(a.GetName().Name, name.Name, StringComparison.OrdinalIgnoreCase));
        return loaded ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
    }

    private static bool ReferencesAbstractions(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return false;
            }

            var reader = pe.GetMetadataReader();
            if (!reader.IsAssembly || reader.GetString(reader.GetAssemblyDefinition().Name) is AbstractionsName or "LlamaMoe.Pipeline")
            {
                return false;
            }

            return reader.AssemblyReferences.Any(h => reader.GetString(reader.GetAssemblyReference(h).Name) == AbstractionsName);
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static void InstallResolver()
    {
        if (Interlocked.Exchange(ref resolverInstalled, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += (context, name) =>
            {
                foreach (var directory in ProbeDirectories.Keys)
                {
                    var candidate = Path.Combine(directory, name.Name + ".dll");
                    if (File.Exists(candidate))
                    {
                        return context.LoadFromAssemblyPath(candidate);
                    }
                }

                return null;
            };
        }
    }
}
