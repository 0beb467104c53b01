using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Modeling.Training;
using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Training;

/// <summary>Reads, selects, encodes, mixes and packs the sources of a <c>train</c> stage into trainer rows.</summary>
internal static class TrainingDataBuilder
{
    /// <summary>The examples <c>[first, first + count)</c> (1-based) of a source; LMOE3303 when the range is empty.</summary>
    public static IReadOnlyList<DataExample> Select(IReadOnlyList<DataExample> examples, int first, int? count, string path)
    {
        var start = first - 1;
        var take = count ?? Math.Max(0, examples.Count - start);
        if (start >= examples.Count || start + take > examples.Count)
        {
            throw new LlamaMoeException(PluginErrorCodes.DataSelection,
                $"examples {first}..{first + take - 1} were asked for, but the file holds {examples.Count}", path, "first",
                "Lower 'first' or 'count'.");
        }

        return examples.Skip(start).Take(take).ToList();
    }

    /// <summary>Builds the rows.</summary>
    /// <param name="sources">The stage's sources.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="options">Sequence length, packing, mixture size.</param>
    /// <param name="seed">The seed of the mixture.</param>
    /// <param name="padId">The padding id.</param>
    public static (TrainingData Data, int Examples, long TargetTokens) Build(IReadOnlyList<TrainDataSource> sources, ITextTokenizer tokenizer, TrainOptions options, long seed, int padId)
    {
        var encoded = new List<(IReadOnlyList<EncodedExample> Examples, double Weight)>();
        foreach (var source in sources)
        {
            var examples = Select(DataSourceReader.Read(new DataSourceSpec(source.Path, source.Format, source.Weight)), source.First, source.Count, source.Path);
            var encoder = new TemplateExampleEncoder(tokenizer, TemplateExampleEncoder.TemplateFor(tokenizer, source.ChatTemplate));
            encoded.Add((examples.Select(encoder.Encode).ToList(), source.Weight));
        }

        var mixed = DataMix.Combine(encoded, seed, options.TotalExamples);
        var rows = SequencePacker.Build(mixed, new PackingOptions(options.SeqLen, options.Pack, padId));
        if (rows.Count == 0)
        {
            throw new LlamaMoeException(PluginErrorCodes.NoTrainingRows, "no training row holds a target token after encoding and packing", key: "sources",
                advice: "Check the sources' formats (a chat source needs assistant turns) and the sequence length.");
        }

        var targets = rows.Sum(r => (long)r.TargetMask().Count(m => m));
        return (new TrainingData(rows, options.Pack), mixed.Count, targets);
    }
}
