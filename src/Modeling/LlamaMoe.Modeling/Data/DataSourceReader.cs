namespace LlamaMoe.Modeling.Data;

/// <summary>Reads a data source of any supported <see cref="DataFormat"/>.</summary>
public static class DataSourceReader
{
    /// <summary>Reads all examples of <paramref name="source"/>; throws LMOE3005 when there are none.</summary>
    public static IReadOnlyList<DataExample> Read(DataSourceSpec source)
    {
        var examples = source.Format switch
        {
            DataFormat.Chat => ChatJsonlReader.Read(source.Path),
            DataFormat.Instruction => InstructionJsonlReader.Read(source.Path),
            DataFormat.Text => TextDocumentReader.ReadPlain(source.Path),
            DataFormat.TextJsonl => TextDocumentReader.ReadJsonl(source.Path),
            DataFormat.Stories => TextDocumentReader.ReadStories(source.Path),
            DataFormat.Gsm8k => Gsm8kJsonlReader.Read(source.Path),
            _ => throw DataErrors.BadOption("format", $"unknown data format {source.Format}"),
        };
        return examples.Count == 0 ? throw DataErrors.Empty(source.Path) : examples;
    }
}
