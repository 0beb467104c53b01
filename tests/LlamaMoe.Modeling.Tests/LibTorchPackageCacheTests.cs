using LlamaMoe.Modeling;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests;

/// <summary>How the .NET tool, which ships without libtorch, finds the libtorch package in the NuGet cache.</summary>
[NonParallelizable]
public sealed class LibTorchPackageCacheTests
{
    private string? savedNugetPackages;

    [SetUp]
    public void Save() => savedNugetPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");

    [TearDown]
    public void RestoreVariable() => Environment.SetEnvironmentVariable("NUGET_PACKAGES", savedNugetPackages);

    [Test]
    public void TheNativeFolderIsInsideTheFolderThatNugetPackagesNames()
    {
        using var cache = new TempDirectory("llamamoe-nuget");
        Environment.SetEnvironmentVariable("NUGET_PACKAGES", cache.Path);

        Assert.That(LibTorchPackageCache.NativeFolder("2.10.0"), Is.EqualTo(cache.Combine("libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native")));
    }

    [Test]
    public void ACachedPackageOfTheVersionTorchSharpExpectsIsUsedWithoutRestoring()
    {
        using var cache = new TempDirectory("llamamoe-nuget");
        Environment.SetEnvironmentVariable("NUGET_PACKAGES", cache.Path);
        var version = TorchRuntime.ExpectedLibTorchVersion!;
        var native = LibTorchPackageCache.NativeFolder(version);
        Directory.CreateDirectory(native);
        foreach (var library in LibTorchLocation.RequiredLibraries)
        {
            File.WriteAllBytes(Path.Combine(native, library), []);
        }

        var progress = new StringWriter();
        var location = LibTorchPackageCache.Locate(progress);

        Assert.That(location, Is.EqualTo(new LibTorchLocation(native, LibTorchSource.Package, version)));
        Assert.That(progress.ToString(), Is.Empty, "nothing is restored when the package is in the cache");
    }

    [Test]
    public void TheTestHostHasItsOwnBundledLibTorch()
    {
        // A build output keeps the bundled libtorch, so it never goes to the cache (only the tool package lacks it).
        Assert.That(LibTorchPackageCache.ApplicationHasBundledLibTorch, Is.True);
    }
}
