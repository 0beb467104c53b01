using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Store;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class StoreTests
{
    [Test]
    public void ASecondRunOverTheSameStoreIsRefusedWhileTheFirstHoldsTheLock()
    {
        using var temp = new TempDirectory();
        var store = new ArtifactStore(temp.Path);
        using var held = store.AcquireLock();
        var ex = Assert.Throws<LlamaMoeException>(() => store.AcquireLock().Dispose());
        Assert.That(ex!.Code, Is.EqualTo("LMOE0070"));
    }

    [Test]
    public void FileDigestsAreMemoisedAndSurviveATimestampTouch()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("big.bin");
        File.WriteAllBytes(file, new byte[4096]);
        var memo = temp.Combine("memo.json");
        var first = new FileDigests(memo);
        var digest = first.OfFile(file);
        first.Save();

        var second = new FileDigests(memo);
        Assert.That(second.OfFile(file), Is.EqualTo(digest));
        Assert.That(second.HashedFiles, Is.Zero, "an unchanged file is not re-hashed");

        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(5));
        Assert.That(second.OfFile(file), Is.EqualTo(digest));
        Assert.That(second.HashedFiles, Is.EqualTo(1), "a touched file is re-hashed once");
    }

    [Test]
    public async Task AFailingStagePublishesNothingAndLeavesNoTempFolder()
    {
        using var fixture = new PipelineFixture("""
            name: t
            stages:
              a: { uses: test/write, with: { text: ok } }
              b: { uses: test/fail, needs: [a] }
            """);
        var ex = Assert.ThrowsAsync<LlamaMoeException>(() => fixture.RunAsync());
        Assert.That(ex!.Code, Is.EqualTo("LMOE0071"));
        Assert.That(ex.Message, Does.Contain("boom"));
        var store = fixture.File(".llamamoe");
        Assert.That(Directory.GetDirectories(Path.Combine(store, "tmp")), Is.Empty);
        Assert.That(Directory.GetDirectories(Path.Combine(store, "objects")), Has.Length.EqualTo(1), "only a's artifact");
        Assert.That(Directory.Exists(fixture.File("artifacts/t/b")), Is.False);
        var again = await fixture.RunAsync(until: "a");
        Assert.That(again["a"], Is.EqualTo(StageStatus.UpToDate), "the stage that finished before the failure is kept");
    }

    [Test]
    public async Task PublishedArtifactsHaveAManifestWithKindProducerAndDigest()
    {
        using var fixture = new PipelineFixture("name: t\nstages:\n  a: { uses: test/write, with: { text: hi } }\n");
        await fixture.RunAsync();
        var manifest = ArtifactManifest.Read(fixture.File("artifacts/t/a"));
        Assert.That(manifest.Kind, Is.EqualTo(ArtifactKinds.Files));
        Assert.That(manifest.Producer, Is.EqualTo(new ArtifactProducer("test/write", "1")));
        Assert.That(manifest.Files.Keys, Is.EqualTo(new[] { "out.txt" }));
        Assert.That(manifest.Outputs["length"], Is.EqualTo("2"));
        Assert.That(new DirectoryInfo(fixture.File("artifacts/t/a")).LinkTarget, Does.EndWith(manifest.Digest[7..]), "the view is a link to the content-addressed object");
        var lockFile = LockFile.Read(fixture.File("pipeline.lock.json"));
        Assert.That(lockFile.Stages["a"].OutputDigest, Is.EqualTo(manifest.Digest));
    }
}
