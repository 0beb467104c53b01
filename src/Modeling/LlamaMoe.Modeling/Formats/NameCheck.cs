using System.Globalization;
using System.Text;

namespace LlamaMoe.Modeling.Formats;

/// <summary>Checks names read from files (tensor names, metadata keys) and escapes them for messages.</summary>
public static class NameCheck
{
    /// <summary>Whether <paramref name="name"/> is non-empty and has no control (Cc) or format-breaking characters.</summary>
    public static bool IsPrintable(string name) =>
        name.Length > 0 && !name.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);

    /// <summary>Escapes control characters as <c>\uXXXX</c> and truncates long names, so that a name can be shown on a terminal.</summary>
    public static string Escape(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name.Length > 200 ? name[..200] : name)
        {
            if (char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return name.Length > 200 ? builder.Append("...").ToString() : builder.ToString();
    }

    /// <summary>Throws LMOE1115 when <paramref name="name"/> is empty or has control characters.</summary>
    public static void Require(string name, string what, string path)
    {
        if (!IsPrintable(name))
        {
            throw new LlamaMoeException(FormatErrorCodes.InvalidName,
                name.Length == 0 ? $"a {what} is empty" : $"the {what} '{Escape(name)}' contains control characters",
                path, Escape(name), "The file is damaged or hostile; re-export it with plain names.");
        }
    }
}
