namespace LlamaMoe.Pipeline.Store;

/// <summary>Keeps <c>artifacts/NAME/STAGE</c> beside the pipeline as a symbolic link to the stage's store object (never a copy).</summary>
public static class ArtifactView
{
    /// <summary>Points <c>viewDirectory/stageId</c> at <paramref name="objectDirectory"/>.</summary>
    public static void Link(string viewDirectory, string stageId, string objectDirectory)
    {
        Directory.CreateDirectory(viewDirectory);
        var link = Path.Combine(viewDirectory, stageId);
        var info = new FileInfo(link);
        if (info.LinkTarget is not null)
        {
            if (info.LinkTarget == objectDirectory)
            {
                return;
            }

            info.Delete();
        }
        else if (Directory.Exists(link))
        {
            Directory.Delete(link, recursive: true);
        }

        var temp = Path.Combine(viewDirectory, $".{stageId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateSymbolicLink(temp, objectDirectory);
        Directory.Move(temp, link);
    }
}
