using LlamaMoe.Build.Tasks.Tests.Integration;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Build.Tasks.Tests.Packaging;

/// <summary>
/// The packaged path as a user takes it, in one temporary folder outside the checkout: the solution packed into a local
/// feed (`dotnet pack LlamaMoe.sln -c Release -o FEED`, without rebuilding), the template package installed into a
/// template hive inside the folder, and a repository made with `dotnet new llamamoe-repo --feed FEED`. The packages get
/// a version of their own (a prerelease suffix), so the shared NuGet cache never serves an older build of them; their
/// cache folders are deleted again on dispose.
/// </summary>
internal sealed class PackagedRepository : IDisposable
{
    /// <summary>The packages the feed must hold.</summary>
    public static readonly string[] PackageIds =
        ["LlamaMoe.Build", "LlamaMoe.Cli", "LlamaMoe.Core", "LlamaMoe.Pipeline.Abstractions", "LlamaMoe.Pipeline", "LlamaMoe.Pipeline.Conformance", "LlamaMoe.Templates"];

    /// <summary>The name given to <c>dotnet new -n</c>: the plugin project is NAME.Splitter.</summary>
    public const string Name = "TinyLab";

    private readonly TempDirectory folder = new("llamamoe-packaged");

    public PackagedRepository()
    {
        VersionSuffix = $"ci.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Hive);
    }

    public string VersionSuffix { get; }

    /// <summary>The packages' version, read back from the packed LlamaMoe.Build package's file name.</summary>
    public string Version { get; private set; } = string.Empty;

    public string Feed => folder.Combine("feed");

    public string Hive => folder.Combine("template-hive");

    public string Root => folder.Combine("repo");

    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The published folder of one stage of the template's recipe.</summary>
    public string Published(string stage) => PathOf("recipes", "artifacts", SampleRecipe.PipelineName, stage);

    /// <summary>Packs the solution (already built in Release) into the feed.</summary>
    public BuildResult Pack()
    {
        var result = DotnetCommand.Run(RepositoryPaths.Root, "pack", Path.Combine(RepositoryPaths.Root, "LlamaMoe.sln"), "-c", "Release", "--no-build",
            "-o", Feed, "-p:VersionSuffix=" + VersionSuffix, "-nodeReuse:false", "-tl:off", "-v:m");
        var build = Directory.GetFiles(Feed, "LlamaMoe.Build.*.nupkg").SingleOrDefault();
        Version = build is null ? string.Empty : Path.GetFileNameWithoutExtension(build)["LlamaMoe.Build.".Length..];
        return result;
    }

    /// <summary>Installs the template package into the private hive and creates the repository from it.</summary>
    public BuildResult CreateFromTemplate()
    {
        var install = DotnetCommand.Run(folder.Path, "new", "install", Path.Combine(Feed, $"LlamaMoe.Templates.{Version}.nupkg"), "--debug:custom-hive", Hive);
        if (!install.Succeeded)
        {
            return install;
        }

        return DotnetCommand.Run(folder.Path, "new", "llamamoe-repo", "-n", Name, "-o", Root, "--feed", Feed, "--debug:custom-hive", Hive);
    }

    /// <summary><c>dotnet build</c> in the repository, as a user types it.</summary>
    public BuildResult Build(params string[] arguments) => DotnetCommand.Run(Root, ["build", "-nodeReuse:false", "-tl:off", "-v:n", .. arguments]);

    /// <summary><c>dotnet clean</c> in the repository.</summary>
    public BuildResult Clean() => DotnetCommand.Run(Root, "clean", "-nodeReuse:false", "-tl:off", "-v:m");

    /// <summary>Replaces text in the recipe.</summary>
    public void EditRecipe(string find, string replace)
    {
        var path = PathOf(SampleRecipe.File);
        var original = File.ReadAllText(path);
        Assert.That(original, Does.Contain(find), $"the template's {SampleRecipe.File} changed; update the test's edit");
        File.WriteAllText(path, original.Replace(find, replace, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        folder.Dispose();
        if (Version.Length == 0)
        {
            return;
        }

        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in PackageIds)
        {
            var versionFolder = Path.Combine(cache, id.ToLowerInvariant(), Version.ToLowerInvariant());
            if (Directory.Exists(versionFolder))
            {
                Directory.Delete(versionFolder, recursive: true);
            }
        }
    }
}
