using System.Text;
using LlamaMoe.Modeling.Data;

namespace LlamaMoe.Modeling.Evaluation;

/// <summary>
/// Reads MMLU CSV files: rows of question, four choices and the answer, either as a letter (A-D, the original
/// hendrycks files, no header) or as a 0-based index (files with the header <c>question,choice0,...,answer</c>).
/// Quoted fields (RFC 4180, with embedded commas, quotes and newlines) are supported.
/// </summary>
public static class MmluCsvReader
{
    /// <summary>The subject name of an MMLU file: the file name without <c>_dev</c>/<c>_test</c>/<c>_val</c>, underscores as spaces.</summary>
    public static string SubjectOf(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        foreach (var suffix in new[] { "_dev", "_test", "_val" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name[..^suffix.Length];
            }
        }

        return name.Replace('_', ' ');
    }

    /// <summary>Reads every question of one file (LMOE3004 names the line of a malformed row).</summary>
    public static IReadOnlyList<MmluItem> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw DataErrors.FileNotFound(path);
        }

        var subject = SubjectOf(path);
        var items = new List<MmluItem>();
        foreach (var (fields, line) in ParseCsv(Data.InputFile.ReadAllText(path)))
        {
            if (line == 1 && fields.Count == 6 && fields[0] == "question" && fields[5] == "answer")
            {
                continue;
            }

            if (fields.Count != 6)
            {
                throw DataErrors.BadCsvRow(path, line, $"expected 6 fields, found {fields.Count}");
            }

            var answer = fields[5].Trim() switch
            {
                "A" or "0" => 0,
                "B" or "1" => 1,
                "C" or "2" => 2,
                "D" or "3" => 3,
                var other => throw DataErrors.BadCsvRow(path, line, $"answer '{other}' is not A-D or 0-3"),
            };
            items.Add(new MmluItem(subject, fields[0], fields.GetRange(1, 4), answer));
        }

        return items;
    }

    /// <summary>Parses CSV text into rows of fields with the 1-based line on which each row starts.</summary>
    public static IEnumerable<(List<string> Fields, int Line)> ParseCsv(string text)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var (line, rowLine, inQuotes, any) = (1, 1, false, false);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    inQuotes = false;
                }
                else
                {
                    line += c == '\n' ? 1 : 0;
                    field.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inQuotes = true;
                    any = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    any = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    if (any || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        yield return (fields, rowLine);
                    }

                    (fields, any) = (new List<string>(), false);
                    field.Clear();
                    line++;
                    rowLine = line;
                    break;
                default:
                    field.Append(c);
                    any = true;
                    break;
            }
        }

        if (any || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return (fields, rowLine);
        }
    }
}
