using System.Text;
using System.Text.RegularExpressions;

namespace LlamaMoe.Modeling.Tests.Architecture;

/// <summary>
/// Reads, from the C# source files of a project, the namespace references the compiled assembly may not show:
/// a constant (an error code, a tensor name) is inlined by the compiler, so a folder can name another folder's
/// constants in source while the built assembly holds no reference to it. Each source file counts as a user of
/// <list type="bullet">
/// <item>every namespace below the root named by a <c>using</c> directive (plain, <c>static</c>, alias, <c>global</c>),
/// whether or not the file still needs it;</item>
/// <item>every fully qualified reference in code (<c>LlamaMoe.Modeling.X.Type</c>, <c>global::</c> included), and every
/// partially qualified one that the enclosing namespace makes valid (<c>Modeling.X.Type</c>, <c>X.Type</c> where
/// <c>Type</c> is a type of folder <c>X</c>);</item>
/// <item>every unqualified use of a type of the root namespace itself (visible to every folder without a using).</item>
/// </list>
/// Comments, string and character literals are skipped, so a cref in a doc comment or a name in a message is no use.
/// A file's folder is taken from its namespace declaration, like the assembly graph.
/// </summary>
internal static partial class SourceReferenceCollector
{
    /// <summary>
    /// For each source file below <paramref name="sourceDirectory"/> (bin and obj excluded), keyed by its namespace
    /// and relative path, the namespaces (or types) below <paramref name="rootNamespace"/> it references.
    /// <paramref name="knownTypes"/> are the project's types, used to tell <c>X.Type</c> from member access.
    /// </summary>
    public static IReadOnlyDictionary<TypeName, IReadOnlySet<TypeName>> Read(string sourceDirectory, string rootNamespace, IEnumerable<TypeName> knownTypes)
    {
        var uses = new Dictionary<TypeName, IReadOnlySet<TypeName>>();
        var types = knownTypes.ToList();
        foreach (var file in Directory.EnumerateFiles(sourceDirectory, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(sourceDirectory, file).Replace('\\', '/');
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal))
            {
                continue;
            }

            var (fileNamespace, found) = ReadText(File.ReadAllText(file), rootNamespace, types);
            if (fileNamespace is not null)
            {
                uses[new TypeName(fileNamespace, $"({relative})")] = found;
            }
        }

        return uses;
    }

    /// <summary>The namespace declared by <paramref name="source"/> (null if none) and what it references below <paramref name="rootNamespace"/>.</summary>
    public static (string? Namespace, IReadOnlySet<TypeName> Uses) ReadText(string source, string rootNamespace, IReadOnlyCollection<TypeName> knownTypes)
    {
        var code = CodeOnly(source);
        var declared = NamespaceDeclaration().Match(code);
        if (!declared.Success)
        {
            return (null, new HashSet<TypeName>());
        }

        var fileNamespace = declared.Groups["name"].Value;
        var found = new HashSet<TypeName>();
        foreach (Match directive in UsingDirective().Matches(code))
        {
            var target = directive.Groups["name"].Value;
            if (target == rootNamespace || target.StartsWith(rootNamespace + ".", StringComparison.Ordinal))
            {
                found.Add(new TypeName(target, "(using directive)"));
            }
        }

        // Qualified names as the enclosing namespace allows them: A.B.C.X.T from anywhere, B.C.X.T inside A, C.X.T inside A.B ...
        var rootParts = rootNamespace.Split('.');
        var fullNames = knownTypes.Select(type => type.ToString()).ToHashSet(StringComparer.Ordinal);
        for (var skipped = 0; skipped <= rootParts.Length; skipped++)
        {
            var enclosing = string.Join('.', rootParts.Take(skipped));
            if (skipped > 0 && fileNamespace != enclosing && !fileNamespace.StartsWith(enclosing + ".", StringComparison.Ordinal))
            {
                break;
            }

            var prefix = string.Concat(rootParts.Skip(skipped).Select(part => part + "."));
            var pattern = new Regex(@"(?<![\w.])(?:global::)?" + Regex.Escape(prefix) + @"(?<path>\w+(?:\s*\.\s*\w+)*)");
            foreach (Match reference in pattern.Matches(code))
            {
                var path = Regex.Replace(reference.Groups["path"].Value, @"\s+", string.Empty).Split('.');
                var prefixes = Enumerable.Range(1, path.Length).Select(length => $"{rootNamespace}.{string.Join('.', path.Take(length))}");

                // Bare "X.Name" may be member access (config.Data.Count is excluded by the look-behind, Data.Count is not):
                // it counts only when it names a type of the project.
                if (prefix.Length == 0 && prefixes.FirstOrDefault(fullNames.Contains) is null)
                {
                    continue;
                }

                found.Add(fullNames.Contains($"{rootNamespace}.{path[0]}")
                    ? new TypeName(rootNamespace, path[0])
                    : new TypeName($"{rootNamespace}.{path[0]}", string.Join('.', path.Skip(1))));
            }
        }

        if (fileNamespace != rootNamespace)
        {
            foreach (var rootType in knownTypes.Where(type => type.Namespace == rootNamespace))
            {
                if (Regex.IsMatch(code, @"(?<![\w.])" + Regex.Escape(rootType.Name) + @"\b"))
                {
                    found.Add(rootType);
                }
            }
        }

        return (fileNamespace, found);
    }

    /// <summary>
    /// <paramref name="source"/> with comments and the contents of string and character literals blanked out; the code in
    /// the holes of interpolated strings is kept.
    /// </summary>
    internal static string CodeOnly(string source)
    {
        var code = new StringBuilder(source.Length);
        var i = 0;
        ScanCode(source, ref i, code, inHole: false);
        return code.ToString();
    }

    /// <summary>Copies code from <paramref name="i"/> on; inside an interpolation hole, stops after its closing brace.</summary>
    private static void ScanCode(string source, ref int i, StringBuilder code, bool inHole)
    {
        var depth = 0;
        while (i < source.Length)
        {
            var c = source[i];
            if (c == '/' && At(source, i + 1) == '/')
            {
                while (i < source.Length && source[i] != '\n')
                {
                    i++;
                }
            }
            else if (c == '/' && At(source, i + 1) == '*')
            {
                var end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? source.Length : end + 2;
                code.Append(' ');
            }
            else if (c == '\'')
            {
                i++;
                while (i < source.Length && source[i] != '\'')
                {
                    i += source[i] == '\\' ? 2 : 1;
                }

                i++;
                code.Append("' '");
            }
            else if (c is '"' or '$' or '@' && StringStart(source, i) is { } quote)
            {
                code.Append("\"\" ");
                SkipString(source, ref i, quote, code);
            }
            else
            {
                if (inHole && c == '{')
                {
                    depth++;
                }
                else if (inHole && c == '}' && depth-- == 0)
                {
                    i++;
                    return;
                }

                code.Append(c);
                i++;
            }
        }
    }

    private static char At(string text, int index) => index < text.Length ? text[index] : '\0';

    /// <summary>The index of the opening quote if a string literal (regular, verbatim, interpolated or raw) starts at <paramref name="start"/>.</summary>
    private static int? StringStart(string source, int start)
    {
        var i = start;
        while (i < source.Length && source[i] is '$' or '@')
        {
            i++;
        }

        return At(source, i) == '"' ? i : null;
    }

    /// <summary>Moves <paramref name="i"/> past the string literal whose opening quote is at <paramref name="quote"/>, copying the code of its holes.</summary>
    private static void SkipString(string source, ref int i, int quote, StringBuilder code)
    {
        var verbatim = source.AsSpan(i, quote - i).Contains('@');
        var interpolated = source.AsSpan(i, quote - i).Contains('$');
        var quotes = 0;
        while (At(source, quote + quotes) == '"')
        {
            quotes++;
        }

        if (quotes >= 3)
        {
            // Raw string: its holes (if any) are not read.
            var end = source.IndexOf(new string('"', quotes), quote + quotes, StringComparison.Ordinal);
            i = end < 0 ? source.Length : end + quotes;
            return;
        }

        i = quote + 1;
        while (i < source.Length)
        {
            var c = source[i];
            if (c == '"' && verbatim && At(source, i + 1) == '"')
            {
                i += 2;
            }
            else if (c == '"')
            {
                i++;
                return;
            }
            else if (interpolated && c is '{' or '}' && At(source, i + 1) == c)
            {
                i += 2;
            }
            else if (interpolated && c == '{')
            {
                i++;
                code.Append(' ');
                ScanCode(source, ref i, code, inHole: true);
                code.Append(' ');
            }
            else
            {
                i += !verbatim && c == '\\' ? 2 : 1;
            }
        }
    }

    [GeneratedRegex(@"^\s*namespace\s+(?<name>[\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?:global::)?(?<name>[\w.]+)\s*(?:<[^;]*>)?\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();
}
