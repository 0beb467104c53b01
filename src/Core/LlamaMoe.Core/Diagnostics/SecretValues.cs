using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LlamaMoe;

/// <summary>
/// The values of secrets seen by this process, so they are never written to a file or printed: the values of
/// environment variables whose names contain TOKEN, KEY, SECRET, PASSWORD, PASSWD or CREDENTIAL (any case), and of
/// <c>${secret:NAME}</c>. Coded errors, diagnostics, lock files and manifests show <see cref="Redaction"/> instead;
/// content keys use <see cref="DigestOf"/> so a changed secret still reruns what used it.
/// </summary>
public static class SecretValues
{
    /// <summary>What a secret value is shown as.</summary>
    public const string Redaction = "***";

    /// <summary>Values shorter than this are not replaced inside free text (they would match ordinary words); structured
    /// redaction (<see cref="RedactJson"/>) replaces values of any length.</summary>
    public const int MinimumTextLength = 4;

    private static readonly string[] SecretNameParts = ["TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"];
    private static readonly object Gate = new();
    private static string[] values = [];

    /// <summary>True when an environment variable of this name holds a secret.</summary>
    public static bool IsSecretName(string name) => SecretNameParts.Any(part => name.Contains(part, StringComparison.OrdinalIgnoreCase));

    /// <summary>Remembers a secret value (empty values are ignored).</summary>
    public static void Register(string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        lock (Gate)
        {
            if (!values.Contains(value, StringComparer.Ordinal))
            {
                // Longest first, so a secret that contains another is replaced whole.
                values = [.. values.Append(value).OrderByDescending(v => v.Length)];
            }
        }
    }

    /// <summary><paramref name="text"/> with every registered secret (and its JSON-escaped form) replaced by <see cref="Redaction"/>.</summary>
    public static string Redact(string text) => Redact(text, MinimumTextLength, out _);

    /// <summary>
    /// A JSON document with the secrets inside its string values (of any length) replaced by <see cref="Redaction"/>;
    /// <paramref name="found"/> receives the secrets that occurred, in a stable order.
    /// </summary>
    public static string RedactJson(string json, out IReadOnlyList<string> found)
    {
        var current = values;
        var hits = new SortedSet<string>(StringComparer.Ordinal);
        if (current.Length == 0)
        {
            found = [];
            return json;
        }

        var node = System.Text.Json.Nodes.JsonNode.Parse(json);
        node = RedactNode(node, current, hits);
        found = [.. hits];
        return hits.Count == 0 ? json : node?.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "null";
    }

    /// <summary>
    /// True when <paramref name="text"/> holds a registered secret of at least <see cref="MinimumTextLength"/> characters,
    /// as it is or JSON-escaped: for files that must carry secrets by reference (job files for external engines).
    /// </summary>
    public static bool AppearsIn(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Redact(text, MinimumTextLength, out var changed);
        return changed;
    }

    /// <summary>A digest of secret values for content keys: SHA-256 over the values, never the values themselves.</summary>
    public static string DigestOf(IEnumerable<string> secrets)
    {
        var text = new StringBuilder("llamamoe-secrets/1\n");
        foreach (var secret in secrets)
        {
            text.Append(secret.Length).Append(':').Append(secret).Append('\n');
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static string Redact(string text, int minimumLength, out bool changed)
    {
        changed = false;
        foreach (var secret in values)
        {
            if (secret.Length < minimumLength)
            {
                continue;
            }

            foreach (var form in new[] { secret, JsonSerializer.Serialize(secret)[1..^1] }.Distinct(StringComparer.Ordinal))
            {
                if (text.Contains(form, StringComparison.Ordinal))
                {
                    text = text.Replace(form, Redaction, StringComparison.Ordinal);
                    changed = true;
                }
            }
        }

        return text;
    }

    private static System.Text.Json.Nodes.JsonNode? RedactNode(System.Text.Json.Nodes.JsonNode? node, string[] secrets, SortedSet<string> hits)
    {
        switch (node)
        {
            case System.Text.Json.Nodes.JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    obj[name] = RedactNode(obj[name]?.DeepClone(), secrets, hits);
                }

                return obj;
            case System.Text.Json.Nodes.JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    array[i] = RedactNode(array[i]?.DeepClone(), secrets, hits);
                }

                return array;
            case System.Text.Json.Nodes.JsonValue value when value.TryGetValue<string>(out var text):
                var original = text;
                foreach (var secret in secrets.Where(s => original.Contains(s, StringComparison.Ordinal)))
                {
                    hits.Add(secret);
                    text = text.Replace(secret, Redaction, StringComparison.Ordinal);
                }

                return text == original ? value : System.Text.Json.Nodes.JsonValue.Create(text);
            default:
                return node;
        }
    }
}
