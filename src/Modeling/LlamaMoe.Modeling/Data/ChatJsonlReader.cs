using System.Text.Json;

namespace LlamaMoe.Modeling.Data;

/// <summary>
/// Reads chat JSON lines: OpenAI style <c>{"messages": [{"role", "content"}]}</c> or ShareGPT style
/// <c>{"conversations": [{"from", "value"}]}</c>. Roles are normalised to system/user/assistant.
/// </summary>
public static class ChatJsonlReader
{
    /// <summary>Reads every conversation of the file.</summary>
    public static IReadOnlyList<DataExample> Read(string path) =>
        JsonLinesFile.Read<DataExample>(path, (root, line) => Parse(root, path, line));

    private static ChatExample Parse(JsonElement root, string path, int line)
    {
        var (key, roleKey, contentKey) = root.TryGetProperty("messages", out _)
            ? ("messages", "role", "content")
            : root.TryGetProperty("conversations", out _)
                ? ("conversations", "from", "value")
                : throw DataErrors.BadField(path, line, "messages", "the record has neither 'messages' nor 'conversations'");
        var turns = root.GetProperty(key);
        if (turns.ValueKind != JsonValueKind.Array)
        {
            throw DataErrors.BadField(path, line, key, $"'{key}' must be an array of turns");
        }

        var messages = new List<ChatMessage>();
        foreach (var turn in turns.EnumerateArray())
        {
            if (turn.ValueKind != JsonValueKind.Object)
            {
                throw DataErrors.BadField(path, line, key, "every turn must be a JSON object");
            }

            var role = NormaliseRole(JsonLinesFile.RequiredString(turn, roleKey, path, line), path, line, roleKey);
            messages.Add(new ChatMessage(role, JsonLinesFile.RequiredString(turn, contentKey, path, line)));
        }

        if (!messages.Any(m => m.Role == "assistant"))
        {
            throw DataErrors.BadField(path, line, key, "the conversation has no assistant turn, so nothing would be trained on");
        }

        return new ChatExample(messages, path, line);
    }

    /// <summary>Maps OpenAI and ShareGPT speaker names to system/user/assistant; throws LMOE3003 for an unknown role.</summary>
    public static string NormaliseRole(string role, string path, int line, string key) => role.ToLowerInvariant() switch
    {
        "system" => "system",
        "user" or "human" => "user",
        "assistant" or "gpt" or "chatgpt" or "bing" or "bard" or "model" => "assistant",
        _ => throw DataErrors.BadField(path, line, key, $"unknown role '{role}' (expected system, user/human or assistant/gpt)"),
    };
}
