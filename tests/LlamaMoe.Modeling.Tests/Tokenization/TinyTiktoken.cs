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

/// <summary>The same vocabulary as a Hugging Face byte-level BPE tokenizer.json.</summary>
internal static class TinyTokenizerJson
{
    public static string Write(TempDirectory dir)
    {
        var toUnicode = LlamaMoe.Modeling.Tokenization.ByteLevelBpeConverter.UnicodeToByte().ToDictionary(p => p.Value, p => p.Key);
        var vocab = new System.Text.Json.Nodes.JsonObject();
        var tokens = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).Concat(TinyTiktoken.Merges.Select(Encoding.UTF8.GetBytes)).ToList();
        for (var i = 0; i < tokens.Count; i++)
        {
            vocab[new string(tokens[i].Select(b => toUnicode[b]).ToArray())] = i;
        }

        vocab["<|begin_of_text|>"] = tokens.Count;
        vocab["<|eot_id|>"] = tokens.Count + 1;
        var root = new System.Text.Json.Nodes.JsonObject
        {
            ["added_tokens"] = new System.Text.Json.Nodes.JsonArray(
                new System.Text.Json.Nodes.JsonObject { ["id"] = tokens.Count, ["content"] = "<|begin_of_text|>", ["special"] = true },
                new System.Text.Json.Nodes.JsonObject { ["id"] = tokens.Count + 1, ["content"] = "<|eot_id|>", ["special"] = true }),
            ["model"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new System.Text.Json.Nodes.JsonArray() },
        };
        File.WriteAllText(dir.Combine("tokenizer.json"), root.ToJsonString());
        return dir.Path;
    }
}
