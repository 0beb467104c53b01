using LlamaMoe.Pipeline.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace LlamaMoe.Pipeline.Yaml;

/// <summary>
/// Reads one YAML document through YamlDotNet's event parser (never <c>YamlStream</c>), guarding against its hazards:
/// nesting deeper than <see cref="MaxDepth"/> stops before the parser's stack or quadratic cost grows
/// (<c>LMOE0002</c>); anchors and aliases are refused (<c>LMOE0003</c>); duplicate keys are refused (<c>LMOE0004</c>);
/// files over <see cref="MaxBytes"/> and multi-document streams are refused (<c>LMOE0005</c>).
/// </summary>
public static class SafeYamlReader
{
    /// <summary>The deepest nesting accepted.</summary>
    public const int MaxDepth = 32;

    /// <summary>The largest file accepted.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Parses <paramref name="text"/>; returns the root node (null for an empty document) or throws <see cref="PipelineDiagnosticsException"/>.</summary>
    public static YNode? Read(string text, string file)
    {
        if (text.Length > MaxBytes)
        {
            throw new PipelineDiagnosticsException([TooLarge(file)]);
        }

        var parser = new Parser(new StringReader(text));
        try
        {
            Expect<StreamStart>(parser, file);
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }

            Expect<DocumentStart>(parser, file);
            var root = parser.Accept<DocumentEnd>(out _) ? null : ReadNode(parser, file, 1);
            Expect<DocumentEnd>(parser, file);
            if (!parser.Accept<StreamEnd>(out _))
            {
                Fail(At(file, parser.Current!.Start), DiagnosticCodes.YamlLimits, "a pipeline file holds exactly one YAML document", "Remove the second '---' document.");
            }

            return root;
        }
        catch (YamlException ex)
        {
            var location = new SourceLocation(file, (int)Math.Max(1, ex.Start.Line), (int)Math.Max(1, ex.Start.Column));
            var message = ex.InnerException?.Message ?? ex.Message;
            Fail(location, DiagnosticCodes.YamlSyntax, "YAML syntax error: " + TrimMark(message));
            return null;
        }
    }

    /// <summary>The LMOE0005 diagnostic for a pipeline file over <see cref="MaxBytes"/>.</summary>
    /// <param name="file">The file.</param>
    public static Diagnostic TooLarge(string file) =>
        new SourceLocation(file, 1, 1).Error(DiagnosticCodes.YamlLimits, $"the file is larger than {MaxBytes / 1024} KiB", "Pipelines are small; split the data out into files.");

    private static YNode ReadNode(IParser parser, string file, int depth)
    {
        var current = parser.Current ?? throw new InvalidOperationException("parser has no current event");
        var location = At(file, current.Start);
        if (current is AnchorAlias alias)
        {
            Fail(location, DiagnosticCodes.YamlAlias, $"aliases (*{alias.Value}) are not allowed in pipelines", "Repeat the value or use a ${var} from 'vars:'.");
        }

        if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
        {
            Fail(location, DiagnosticCodes.YamlAlias, $"anchors (&{anchored.Anchor.Value}) are not allowed in pipelines", "Use a ${var} from 'vars:' for shared values.");
        }

        if (current is Scalar scalar)
        {
            parser.MoveNext();
            return new YScalar(location, scalar.Value, scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded);
        }

        if (depth > MaxDepth)
        {
            Fail(location, DiagnosticCodes.YamlTooDeep, $"nesting is deeper than {MaxDepth} levels", "Pipelines need only a few levels; flatten the structure.");
        }

        if (current is SequenceStart)
        {
            parser.MoveNext();
            var items = new List<YNode>();
            while (!parser.Accept<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, file, depth + 1));
            }

            parser.MoveNext();
            return new YSequence(location, items);
        }

        if (current is MappingStart)
        {
            parser.MoveNext();
            var entries = new List<KeyValuePair<YScalar, YNode>>();
            var seen = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
            while (!parser.Accept<MappingEnd>(out _))
            {
                var keyNode = ReadNode(parser, file, depth + 1);
                if (keyNode is not YScalar key)
                {
                    Fail(keyNode.Location, DiagnosticCodes.YamlComplexKey, "mapping keys must be plain scalars");
                    return null!;
                }

                if (seen.TryGetValue(key.Value, out var first))
                {
                    Fail(key.Location, DiagnosticCodes.YamlDuplicateKey, $"duplicate key '{key.Value}' (first at line {first.Line})", "Remove one of them; YAML keys must be unique.");
                }

                seen[key.Value] = key.Location;
                entries.Add(new(key, ReadNode(parser, file, depth + 1)));
            }

            parser.MoveNext();
            return new YMapping(location, entries);
        }

        Fail(location, DiagnosticCodes.YamlSyntax, $"unexpected YAML event {current.GetType().Name}");
        return null!;
    }

    private static void Expect<T>(IParser parser, string file)
        where T : ParsingEvent
    {
        if (parser.Current is null)
        {
            parser.MoveNext();
        }

        if (parser.Current is not T)
        {
            Fail(At(file, parser.Current?.Start ?? Mark.Empty), DiagnosticCodes.YamlSyntax, $"YAML syntax error: expected {typeof(T).Name}");
        }

        parser.MoveNext();
    }

    private static SourceLocation At(string file, Mark mark) => new(file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    private static string TrimMark(string message)
    {
        var index = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && index > 0 ? message[(index + 3)..] : message;
    }

    private static void Fail(SourceLocation location, string code, string message, string? advice = null) =>
        throw new PipelineDiagnosticsException([location.Error(code, message, advice)]);
}
