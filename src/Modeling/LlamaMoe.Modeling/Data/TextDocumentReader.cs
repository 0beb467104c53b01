using System.Text;

namespace LlamaMoe.Modeling.Data;

/// <summary>Reads plain-text documents for continual pre-training: a whole text file, text JSON lines, or a stories file.</summary>
public static class TextDocumentReader
{
    /// <summary>The separator line of TinyStories-style files.</summary>
    public const string EndOfTextMarker = "<|endoftext|>";

    /// <summary>Reads the whole file as one document.</summary>
    public static IReadOnlyList<DataExample> ReadPlain(string path)
    {
        using var reader = JsonLinesFile.OpenText(path);
        var text = InputFile.ReadAllText(reader, path);
        return string.IsNullOrWhiteSpace(text) ? [] : [new TextExample(text, path, 1)];
    }

    /// <summary>Reads one document per JSON line from the field <c>text</c>.</summary>
    public static IReadOnlyList<DataExample> ReadJsonl(string path) =>
        JsonLinesFile.Read<DataExample>(path, (root, line) => new TextExample(JsonLinesFile.RequiredString(root, "text", path, line), path, line));

    /// <summary>
    /// Reads documents separated by lines that hold only <c>&lt;|endoftext|&gt;</c>. Each document keeps its inner
    /// line breaks, without the trailing newline before the separator; blank documents are dropped.
    /// </summary>
    public static IReadOnlyList<DataExample> ReadStories(string path)
    {
        var documents = new List<DataExample>();
        using var reader = JsonLinesFile.OpenText(path);
        var current = new StringBuilder();
        var lineNumber = 0;
        var firstLine = 1;
        while (InputFile.ReadLine(reader, path, lineNumber + 1) is { } line)
        {
            lineNumber++;
            if (line.Trim() == EndOfTextMarker)
            {
                Flush(documents, current, path, firstLine);
                firstLine = lineNumber + 1;
                continue;
            }

            if (current.Length > 0)
            {
                current.Append('\n');
            }

            current.Append(line);
        }

        Flush(documents, current, path, firstLine);
        return documents;
    }

    private static void Flush(List<DataExample> documents, StringBuilder current, string path, int firstLine)
    {
        var text = current.ToString().Trim('\n');
        if (!string.IsNullOrWhiteSpace(text))
        {
            documents.Add(new TextExample(text, path, firstLine));
        }

        current.Clear();
    }
}
