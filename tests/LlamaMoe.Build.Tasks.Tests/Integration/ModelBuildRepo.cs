using LlamaMoe.Testing;

namespace LlamaMoe.Build.Tasks.Tests.Integration;

/// <summary>
/// A copy of <c>samples/model-build-repo</c> in a temporary folder (sources only: no bin, obj, store, artifacts or
/// lock files), built with <c>dotnet build</c> against this checkout's CLI and task DLL.
/// </summary>
internal sealed class ModelBuildRepo : IDisposable
{
    private static readonly string[] SkippedFolders = ["bin", "obj", "artifacts", ".llamamoe"];

    private readonly TempDirectory folder = new("llamamoe-modelrepo");
    private bool restored;

    public ModelBuildRepo()
    {
        Copy(Path.Combine(RepositoryPaths.Root, "samples", "model-build-repo"), folder.Path);
    }

    public string Root => folder.Path;

    public string PathOf(params string[] parts) => folder.Combine(parts);

    /// <summary>The published folder of one stage.</summary>
    public string Published(string stage) => folder.Combine("recipes", "artifacts", SampleRecipe.PipelineName, stage);

    /// <summary>Builds; only the first build restores (restore is the slowest part of a no-op build).</summary>
    public BuildResult Build(params string[] arguments)
    {
        var result = DotnetBuild.Run("build", folder.Combine("ModelBuild.proj"), restored ? [.. arguments, "--no-restore"] : arguments);
        restored = true;
        return result;
    }

    /// <summary>Replaces text in the recipe, returning an action that restores the original.</summary>
    public IDisposable EditRecipe(string find, string replace)
    {
        var path = folder.Combine(SampleRecipe.File);
        var original = File.ReadAllText(path);
        if (!original.Contains(find, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"'{find}' is not in {SampleRecipe.File}; update SampleRecipe to match the recipe.");
        }

        File.WriteAllText(path, original.Replace(find, replace, StringComparison.Ordinal));
        return new Restore(() => File.WriteAllText(path, original));
    }

    public void Dispose() => folder.Dispose();

    private static void Copy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source).Where(f => !f.EndsWith(".lock.json", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(source).Where(d => !SkippedFolders.Contains(Path.GetFileName(d))))
        {
            Copy(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
