using System.Text;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Testing;

namespace LlamaMoe.Modeling.Tests.Tokenization;

/// <summary>A hand-made Llama-3-style tiktoken rank file: 256 byte tokens plus a few merges, specials after them.</summary>
internal static class TinyTiktoken
{
    public static readonly string[] Merges = ["he", "ll", "llo", "hello", " w", "or", " wor", " world"];

    public static int BaseCount => 256 + Merges.Length;

    public static string WriteModelDirectory(TempDirectory dir)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).Concat(Merges.Select(Encoding.UTF8.GetBytes));
        var path = dir.Combine("tokenizer.model");
        File.WriteAllText(path, TiktokenTextTokenizer.ToRankFile(tokens));
        return dir.Path;
    }
}
