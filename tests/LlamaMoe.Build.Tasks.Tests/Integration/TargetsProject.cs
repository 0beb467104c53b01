using LlamaMoe.Testing;

namespace LlamaMoe.Build.Tasks.Tests.Integration;

/// <summary>
/// A model-build project in a temporary folder that imports the LlamaMoe.Build targets from this checkout, with a
/// shell script standing in for the <c>dotnet</c> host that runs the CLI. The script appends each command line it
/// receives to <c>invocations.txt</c>, publishes a marker file under <c>artifacts/NAME/</c> beside the pipeline (as the
/// CLI does), prints the CLI's summary line, prints a canonical error for any pipeline containing the word BROKEN,
/// and deletes the <c>.llamamoe</c> store beside the pipeline on <c>clean</c>. It exercises the targets (selection, stamps, clean,
/// design-time skip, error mapping) through real <c>dotnet build</c> runs without the training engine.
/// </summary>
internal sealed class TargetsProject : IDisposable
{
    private readonly TempDirectory folder = new("llamamoe-targets");

    public TargetsProject()
    {
        Reset();
        ProjectFile = folder.Combine("Model.proj");
        File.WriteAllText(ProjectFile, """
            <Project Sdk="Microsoft.Build.NoTargets/3.7.0">
              <Import Project="$(LlamaMoeRepoRoot)build/LlamaMoe.Build.InRepo.props" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <EnableDefaultItems>false</EnableDefaultItems>
              </PropertyGroup>
              <ItemGroup>
                <LlamaMoePipeline Include="recipes/*.yaml" />
                <LlamaMoePipeline Update="recipes/beta.yaml" OptIn="true" />
              </ItemGroup>
              <Import Project="$(LlamaMoeRepoRoot)build/LlamaMoe.Build.InRepo.targets" />
            </Project>
            """);
        HostScript = folder.Combine("fake-dotnet");
        File.WriteAllText(HostScript, """
            #!/bin/sh
            # $1=exec $2=cli $3=run|clean $4=pipeline, then options such as --store DIR --artifacts DIR
            dir="$(dirname "$0")"
            echo "$*" >> "$dir/invocations.txt"
            command="$3"; pipeline="$4"; name="$(basename "$pipeline" .yaml)"
            artifacts="$(dirname "$pipeline")/artifacts"
            while [ $# -gt 0 ]; do [ "$1" = "--artifacts" ] && artifacts="$2"; shift; done
            if [ "$command" = "clean" ]; then
              rm -rf "$(dirname "$pipeline")/.llamamoe"; echo "removed the store"; exit 0
            fi
            if grep -q BROKEN "$pipeline"; then
              echo "$pipeline(2,3): error LMOE0042: the word BROKEN is not a stage" >&2
              exit 1
            fi
            mkdir -p "$artifacts/$name/train" && echo done > "$artifacts/$name/train/model.txt"
            echo "[train] up to date: sha256:0123"
            echo "$name: 0 stage(s) ran, 1 up to date; artifacts in $artifacts/$name"

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(HostScript, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string ProjectFile { get; }

    public string HostScript { get; }

    public string Root => folder.Path;

    public string Path(params string[] parts) => folder.Combine(parts);

    /// <summary>The command lines the fake host received, in order.</summary>
    public IReadOnlyList<string> Invocations =>
        File.Exists(folder.Combine("invocations.txt")) ? File.ReadAllLines(folder.Combine("invocations.txt")) : [];

    /// <summary>Restores once; every later build and clean skips restore (it is the slowest part of a small build).</summary>
    public void Restore() => DotnetBuild.Run("restore", ProjectFile).ShouldSucceed();

    public BuildResult Build(params string[] arguments) =>
        DotnetBuild.Run("build", ProjectFile, [.. arguments, "--no-restore", "-p:LlamaMoeDotnetHostPath=" + HostScript]);

    public BuildResult Clean(params string[] arguments) =>
        DotnetBuild.Run("clean", ProjectFile, [.. arguments, "-p:LlamaMoeDotnetHostPath=" + HostScript]);

    /// <summary>Back to the initial recipes, with nothing built, published or recorded (the restore is kept).</summary>
    public void Reset()
    {
        foreach (var generated in new[] { folder.Combine("recipes"), folder.Combine("out"), folder.Combine("store"), folder.Combine("obj", "llamamoe") })
        {
            if (Directory.Exists(generated))
            {
                Directory.Delete(generated, recursive: true);
            }
        }

        foreach (var stamps in Directory.GetDirectories(folder.Path, "llamamoe", SearchOption.AllDirectories))
        {
            Directory.Delete(stamps, recursive: true);
        }

        File.Delete(folder.Combine("invocations.txt"));
        Directory.CreateDirectory(folder.Combine("recipes"));
        File.WriteAllText(folder.Combine("recipes", "alpha.yaml"), "name: alpha\n");
        File.WriteAllText(folder.Combine("recipes", "beta.yaml"), "name: beta\n");
    }

    public void Dispose() => folder.Dispose();
}
