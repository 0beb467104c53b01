using System.Text;

namespace LlamaMoe.Pipeline.Options;

/// <summary>PascalCase to kebab-case: <c>NumExperts</c> → <c>num-experts</c>, <c>TopK</c> → <c>top-k</c>, <c>HTTPPort</c> → <c>http-port</c>.</summary>
public static class KebabCase
{
    /// <summary>Converts a .NET member name.</summary>
    public static string From(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (previousLowerOrDigit || acronymEnd)
                {
                    builder.Append('-');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c == '_' ? '-' : c);
            }
        }

        return builder.ToString();
    }
}
