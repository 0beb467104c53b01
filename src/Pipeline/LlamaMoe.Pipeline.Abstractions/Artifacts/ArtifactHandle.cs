namespace LlamaMoe.Pipeline;

/// <summary>A published, read-only input artifact: the stage that produced it, its kind, folder and content digest.</summary>
/// <param name="StageId">The producing stage.</param>
/// <param name="Kind">The artifact kind (<see cref="ArtifactKinds"/>).</param>
/// <param name="Directory">The artifact folder (in the store); never write into it.</param>
/// <param name="Digest">The content digest (<c>sha256:...</c>) over the folder's files, kind and outputs.</param>
/// <param name="Outputs">The named outputs recorded by the producing step.</param>
public sealed record ArtifactHandle(
    string StageId,
    string Kind,
    string Directory,
    string Digest,
    IReadOnlyDictionary<string, string> Outputs)
{
    /// <summary>A file inside the artifact.</summary>
    public string File(string relativePath) => Path.Combine(Directory, relativePath);
}
