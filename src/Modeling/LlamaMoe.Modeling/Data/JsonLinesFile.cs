using System.IO.Compression;
using System.Text.Json;

namespace LlamaMoe.Modeling.Data;

/// <summary>Reads JSON-lines files (optionally gzip-compressed) line by line, with coded errors that name file and line.</summary>
public static class JsonLinesFile
{
    /// <summary>Opens a text file, decompressing it when its name ends in <c>.gz</c>.</summary>
    public static TextReader OpenText(string path)
    {
        Stream stream = InputFile.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            stream = new GZipStream(stream, CompressionMode.Decompress);
        }

        return new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
    }

    /// <summary>
    /// Parses every non-blank line as a JSON object and maps it with <paramref name="map"/>
    /// (which receives the root element and the 1-based line number; it may return null to skip a record).
    /// </summary>
    public static List<T> Read<T>(string path, Func<JsonElement, int, T?> map)
        where T : class
    {
        var results = new List<T>();
        using var reader = OpenText(path);
        var lineNumber = 0;
        while (InputFile.ReadLine(reader, path, lineNumber + 1) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line, new JsonDocumentOptions { AllowDuplicateProperties = false });
            }
            catch (JsonException ex)
            {
                throw DataErrors.MalformedJson(path, lineNumber, ex.Message);
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw DataErrors.MalformedJson(path, lineNumber, "the line is not a JSON object");
                }

                if (map(document.RootElement, lineNumber) is { } item)
                {
                    results.Add(item);
                }
            }
        }

        return results;
    }

    /// <summary>Reads a required string property or throws LMOE3003 naming the file, line and key.</summary>
    public static string RequiredString(JsonElement element, string key, string path, int line)
    {
        if (!element.TryGetProperty(key, out var value))
        {
            throw DataErrors.BadField(path, line, key, $"the record has no '{key}' field");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw DataErrors.BadField(path, line, key, $"the field '{key}' must be a string, not {value.ValueKind}");
        }

        return value.GetString()!;
    }

    /// <summary>Reads an optional string property (null when absent or JSON null); throws LMOE3003 when it is not a string.</summary>
    public static string? OptionalString(JsonElement element, string key, string path, int line)
    {
        if (!element.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw DataErrors.BadField(path, line, key, $"the field '{key}' must be a string, not {value.ValueKind}");
        }

        return value.GetString();
    }
}
