using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Store;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class StoreIntegrityTests
{
    private PipelineFixture fixture = null!;

    [SetUp]
    public void SetUp()
    {
        fixture = new PipelineFixture(IncrementalRunTests.Chain);
        File.WriteAllText(fixture.File("input.txt"), "payload");
    }

    [TearDown]
    public void TearDown() => fixture.Dispose();

    [Test]
    public async Task AnObjectCorruptedInPlaceWithItsMtimeRestoredIsDetectedRebuiltAndItsConsumersRerun()
    {
        await fixture.RunAsync();
        CorruptInPlace(ObjectFile("a", "out.txt"));

        var observer = new RecordingObserver();
        var second = await fixture.RunAsync(observer: observer);

        Assert.That(observer.Warnings, Has.Some.StartsWith("LMOE0075"));
        Assert.That(second["a"], Is.EqualTo(StageStatus.Ran), "the corrupt object is not reused");
        Assert.That(second["b"], Is.EqualTo(StageStatus.Ran), "b was built from the corrupt object");
        Assert.That(second["c"], Is.EqualTo(StageStatus.UpToDate), "b's rebuilt output is the same verified content");
        Assert.That(fixture.ReadArtifact("a", "out.txt"), Is.EqualTo("abc"));
        var third = await fixture.RunAsync();
        Assert.That(third.Values, Is.All.EqualTo(StageStatus.UpToDate));
    }

    [Test]
    public async Task PlanReportsACorruptObjectWithoutRemovingIt()
    {
        await fixture.RunAsync();
        var file = ObjectFile("a", "out.txt");
        CorruptInPlace(file);
        var plan = fixture.Plan();
        Assert.That(plan.Single(p => p.StageId == "a").Action, Is.EqualTo(PlanAction.Run));
        Assert.That(File.Exists(file), Is.True, "plan changes nothing");
    }

    [Test]
    public void PublishReplacesACorruptExistingObjectOfTheSameDigest()
    {
        using var temp = new TempDirectory();
        var store = new ArtifactStore(temp.Combine("store"));
        var first = Sealed(store, "k1");
        var objectDirectory = store.Publish(first.Directory, "k1", first.Digest);
        CorruptInPlace(Path.Combine(objectDirectory, "model.safetensors"));

        var again = Sealed(store, "k2");
        Assert.That(again.Digest, Is.EqualTo(first.Digest));
        store.Publish(again.Directory, "k2", again.Digest);

        Assert.That(store.TakeWarnings().Select(w => w.Code), Has.Member("LMOE0075"));
        Assert.That(File.ReadAllBytes(Path.Combine(objectDirectory, "model.safetensors")), Is.EqualTo(Payload));
        Assert.That(store.Lookup("k1"), Is.EqualTo(first.Digest));
    }

    [Test]
    public void AnObjectWithoutAStampIsFullyVerifiedOnceAndThenStamped()
    {
        using var temp = new TempDirectory();
        var store = new ArtifactStore(temp.Combine("store"));
        var sealedObject = Sealed(store, "k1");
        store.Publish(sealedObject.Directory, "k1", sealedObject.Digest);
        var stamp = Directory.GetFiles(Path.Combine(store.Root, "stamps")).Single();
        File.Delete(stamp);
        Assert.That(store.Lookup("k1"), Is.EqualTo(sealedObject.Digest));
        Assert.That(File.Exists(stamp), Is.True);
        Assert.That(store.TakeWarnings(), Is.Empty);
    }

    [TestCase("../../../../etc")]
    [TestCase("sha256:../../outside")]
    [TestCase("")]
    public async Task AKeyFileThatNamesNoObjectOfTheStoreIsRefusedAndTheStageReruns(string content)
    {
        await fixture.RunAsync();
        var keyFile = KeyFile("a");
        File.WriteAllText(keyFile, content);
        var observer = new RecordingObserver();
        var second = await fixture.RunAsync(observer: observer);
        Assert.That(observer.Warnings, Has.Some.StartsWith("LMOE0076"));
        Assert.That(second["a"], Is.EqualTo(StageStatus.Ran));
        Assert.That(File.ReadAllText(keyFile), Does.StartWith("sha256:"), "the rerun rewrites the key");
    }

    [Test]
    public async Task AKeyFileThatIsALinkOutsideTheStoreIsNotFollowed()
    {
        await fixture.RunAsync();
        var keyFile = KeyFile("a");
        var outside = fixture.File("outside-key");
        File.WriteAllText(outside, File.ReadAllText(keyFile));
        File.Delete(keyFile);
        File.CreateSymbolicLink(keyFile, outside);
        var observer = new RecordingObserver();
        var second = await fixture.RunAsync(observer: observer);
        Assert.That(observer.Warnings, Has.Some.StartsWith("LMOE0076"));
        Assert.That(second["a"], Is.EqualTo(StageStatus.Ran));
        Assert.That(new FileInfo(keyFile).LinkTarget, Is.Null, "the link is replaced by a real key file");
    }

    [Test]
    public async Task AnObjectFolderThatIsALinkOutsideTheStoreIsNotFollowed()
    {
        await fixture.RunAsync();
        var objectDirectory = new DirectoryInfo(fixture.File("artifacts/t/a")).LinkTarget!;
        var outside = fixture.File("outside-object");
        Directory.Move(objectDirectory, outside);
        Directory.CreateSymbolicLink(objectDirectory, outside);
        var observer = new RecordingObserver();
        var second = await fixture.RunAsync(observer: observer);
        Assert.That(observer.Warnings, Has.Some.StartsWith("LMOE0076"));
        Assert.That(second["a"], Is.EqualTo(StageStatus.Ran));
        Assert.That(new DirectoryInfo(objectDirectory).LinkTarget, Is.Null);
        Assert.That(Directory.Exists(outside), Is.True, "nothing outside the store is deleted");
    }

    [Test]
    public void AFileRewrittenInPlaceWithItsSizeAndMtimeRestoredIsRehashed()
    {
        using var temp = new TempDirectory();
        var file = temp.Combine("data.txt");
        File.WriteAllText(file, "aaaa");
        var digests = new FileDigests(temp.Combine("memo.json"));
        var before = digests.OfFile(file);
        digests.Save();
        Thread.Sleep(20);
        CorruptInPlace(file);

        var after = new FileDigests(temp.Combine("memo.json"));
        Assert.That(after.OfFile(file), Is.Not.EqualTo(before));
        Assert.That(after.HashedFiles, Is.EqualTo(1));
    }

    private static readonly byte[] Payload = [.. Enumerable.Range(0, 4096).Select(i => (byte)i)];

    private static (string Directory, string Digest) Sealed(ArtifactStore store, string key)
    {
        var directory = store.CreateTempDirectory(FileDigests.OfText(key));
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), Payload);
        var manifest = ArtifactSealer.Seal(directory, "files", new ArtifactProducer("test/x", "1"), [], new FileDigests(null));
        return (directory, manifest.Digest);
    }

    /// <summary>Flips the first byte in place, keeping the size and putting the mtime back (only the ctime shows it).</summary>
    private static void CorruptInPlace(string path)
    {
        var mtime = File.GetLastWriteTimeUtc(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var bytes = File.ReadAllBytes(path);
        bytes[0] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, mtime);
    }

    private string ObjectFile(string stage, string file) => Path.Combine(new DirectoryInfo(fixture.File($"artifacts/t/{stage}")).LinkTarget!, file);

    private string KeyFile(string stage)
    {
        var key = LockFile.Read(fixture.Load().Definition.LockFilePath).Stages[stage].Key;
        return Path.Combine(fixture.File(".llamamoe"), "keys", key["sha256:".Length..]);
    }

    private sealed class RecordingObserver : IPipelineRunObserver
    {
        public List<string> Warnings { get; } = [];

        public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons)
        {
        }

        public void StageProgress(string stageId, StepProgressUpdate update)
        {
        }

        public void StageLog(string stageId, bool warning, string message)
        {
            if (warning)
            {
                lock (Warnings)
                {
                    Warnings.Add(message);
                }
            }
        }

        public void StageFinished(StageOutcome outcome)
        {
        }
    }
}
