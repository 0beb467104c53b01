using System.Text;
using LlamaMoe.Modeling.Formats.SentencePiece;

namespace LlamaMoe.Modeling.Synthetic;

/// <summary>
/// Trains a small byte-pair-encoding vocabulary and writes it as a SentencePiece <c>tokenizer.model</c>
/// (ModelProto, BPE type, identity normalizer with the dummy-prefix space), so a model pre-trained from scratch
/// has a tokenizer every SentencePiece reader loads: Microsoft.ML.Tokenizers, Hugging Face and llama.cpp.
/// Ids: 0 <c>&lt;unk&gt;</c>, 1 <c>&lt;s&gt;</c>, 2 <c>&lt;/s&gt;</c>, then merged pieces in merge order, then single characters.
/// </summary>
public static class SentencePieceBpeTrainer
{
    private const char SpaceMarker = '\u2581';

    /// <summary>Learns merges on <paramref name="texts"/> until the vocabulary has <paramref name="vocabSize"/> pieces.</summary>
    /// <returns>The serialized ModelProto bytes.</returns>
    public static byte[] Train(IEnumerable<string> texts, int vocabSize)
    {
        // Word types with counts; each word is the SentencePiece view of a whitespace-delimited chunk: "▁word".
        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            foreach (var word in SplitWords(text))
            {
                wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
            }
        }

        var characters = wordCounts.Keys.SelectMany(w => w.EnumerateRunes()).Select(r => r.ToString()).Distinct(StringComparer.Ordinal)
            .OrderBy(c => c, StringComparer.Ordinal).ToList();
        var words = wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: kv.Key.EnumerateRunes().Select(r => r.ToString()).ToList(), kv.Value)).ToList();
        var merges = new List<string>();
        var known = new HashSet<string>(characters, StringComparer.Ordinal);
        while (3 + characters.Count + merges.Count < vocabSize)
        {
            var best = BestPair(words);
            if (best is null)
            {
                break;
            }

            var merged = best.Value.Left + best.Value.Right;
            foreach (var (symbols, _) in words)
            {
                for (var i = 0; i < symbols.Count - 1; i++)
                {
                    if (symbols[i] == best.Value.Left && symbols[i + 1] == best.Value.Right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }

            if (known.Add(merged))
            {
                merges.Add(merged);
            }
        }

        return SentencePieceModelWriter.Write(merges, characters);
    }

    /// <summary>Splits text the way SentencePiece does with add_dummy_prefix and escaped whitespace: "▁" starts each word.</summary>
    public static IEnumerable<string> SplitWords(string text)
    {
        var builder = new StringBuilder();
        builder.Append(SpaceMarker);
        foreach (var ch in text)
        {
            if (ch == ' ')
            {
                if (builder.Length > 0)
                {
                    yield return builder.ToString();
                }

                builder.Clear().Append(SpaceMarker);
            }
            else if (ch == '\n')
            {
                if (builder.Length > 0)
                {
                    yield return builder.ToString();
                }

                yield return "\n";
                builder.Clear();
            }
            else
            {
                builder.Append(ch);
            }
        }

        if (builder.Length > 0)
        {
            yield return builder.ToString();
        }
    }

    private static (string Left, string Right)? BestPair(List<(List<string> Symbols, int Count)> words)
    {
        var counts = new Dictionary<(string, string), int>();
        foreach (var (symbols, count) in words)
        {
            for (var i = 0; i < symbols.Count - 1; i++)
            {
                var key = (symbols[i], symbols[i + 1]);
                counts[key] = counts.GetValueOrDefault(key) + count;
            }
        }

        (string, string)? best = null;
        var bestCount = 1; // a pair seen once is not worth a piece
        foreach (var (pair, count) in counts)
        {
            if (count > bestCount || (count == bestCount && best is { } b && string.CompareOrdinal(pair.Item1 + "\u0000" + pair.Item2, b.Item1 + "\u0000" + b.Item2) < 0))
            {
                best = pair;
                bestCount = count;
            }
        }

        return best;
    }
}
