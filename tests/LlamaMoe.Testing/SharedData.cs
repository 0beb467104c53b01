using NUnit.Framework;

namespace LlamaMoe.Testing;

/// <summary>
/// Locates the shared real data (stories260K, TinyStories, GSM8K, ...) through the <c>LLAMAMOE_DATA</c> environment
/// variable. When it is missing, a test fails with a clear message in CI (<c>LLAMAMOE_CI=1</c>) and is skipped with
/// the same message on a user's machine.
/// </summary>
public static class SharedData
{
    /// <summary>The message used when the data folder is not available.</summary>
    public const string MissingMessage =
        "LLAMAMOE_DATA is not set or does not exist: set it to the shared data folder (for example ../shared/data) to run this test.";

    /// <summary>The data root; fails or skips the current test when it is missing.</summary>
    public static string Root
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("LLAMAMOE_DATA");
            if (!string.IsNullOrEmpty(root) && Directory.Exists(root))
            {
                return Path.GetFullPath(root);
            }

            if (Environment.GetEnvironmentVariable("LLAMAMOE_CI") == "1")
            {
                Assert.Fail(MissingMessage);
            }

            Assert.Ignore(MissingMessage);
            throw new InvalidOperationException(MissingMessage);
        }
    }

    /// <summary>A file under the data root; fails or skips when it is missing.</summary>
    public static string File(params string[] relative)
    {
        var path = Path.Combine([Root, .. relative]);
        if (!System.IO.File.Exists(path))
        {
            Assert.Fail($"shared data file not found: {path}");
        }

        return path;
    }

    /// <summary>stories260K.bin.</summary>
    public static string Stories260KBin => File("stories260K", "stories260K.bin");

    /// <summary>stories260K.gguf.</summary>
    public static string Stories260KGguf => File("stories260K", "stories260K.gguf");

    /// <summary>tok512.model (SentencePiece).</summary>
    public static string Tok512Model => File("stories260K", "tok512.model");

    /// <summary>tinystories_valid_0001-0700.txt.</summary>
    public static string TinyStoriesValid => File("tinystories", "tinystories_valid_0001-0700.txt");
}
