using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class AtomicFileTests
{
    [Test]
    public void AFailingWriterLeavesNoTempFileAndTheOldTargetIntact()
    {
        using var temp = new TempDirectory();
        var target = temp.Combine("model.safetensors");
        File.WriteAllText(target, "old contents");

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, stream =>
        {
            stream.Write(new byte[4096]);
            throw new InvalidOperationException("writer failed half-way");
        }));

        Assert.That(File.ReadAllText(target), Is.EqualTo("old contents"));
        Assert.That(Directory.GetFiles(temp.Path), Is.EqualTo(new[] { target }));
    }

    [Test]
    public void AFailingCopyOfAMissingSourceLeavesNoTempFileAndNoTarget()
    {
        using var temp = new TempDirectory();
        var target = temp.Combine("tokenizer.model");

        Assert.Throws<FileNotFoundException>(() => AtomicFile.Copy(temp.Combine("absent.model"), target));

        Assert.That(Directory.GetFiles(temp.Path), Is.Empty);
    }

    [Test]
    public void WriteAllTextReplacesTheTargetWithUtf8WithoutABom()
    {
        using var temp = new TempDirectory();
        var target = temp.Combine("sub", "config.json");
        AtomicFile.WriteAllText(target, "first");
        AtomicFile.WriteAllText(target, "é\n");

        Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 0xC3, 0xA9, 0x0A }));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(target)!), Has.Length.EqualTo(1));
    }
}
