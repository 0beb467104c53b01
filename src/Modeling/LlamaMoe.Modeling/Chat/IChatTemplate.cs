using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Modeling.Chat;

/// <summary>
/// A chat format implemented as code (a model's <c>chat_template</c> string is never rendered). Encodes a conversation into
/// ids and a loss mask that is 1 exactly on assistant content tokens and the token that ends each assistant turn.
/// </summary>
public interface IChatTemplate
{
    /// <summary>The template name (<c>llama2</c>, <c>llama3</c>, <c>plain</c>).</summary>
    string Name { get; }

    /// <summary>Encodes <paramref name="messages"/>; with <paramref name="addGenerationPrompt"/>, ends with the assistant header to generate from.</summary>
    ChatEncoding Encode(IReadOnlyList<ChatMessage> messages, ITextTokenizer tokenizer, bool addGenerationPrompt = false);
}

/// <summary>Builds ids and mask segment by segment.</summary>
internal sealed class ChatEncodingBuilder
{
    private readonly List<int> ids = [];
    private readonly List<byte> mask = [];

    public void Add(IEnumerable<int> tokens, bool train)
    {
        foreach (var id in tokens)
        {
            ids.Add(id);
            mask.Add(train ? (byte)1 : (byte)0);
        }
    }

    public ChatEncoding Build() => new(ids.ToArray(), mask.ToArray());

    public static int Special(ITextTokenizer tokenizer, string token) =>
        tokenizer.TokenToId(token) ?? throw new LlamaMoeException(ChatErrorCodes.MissingSpecialToken, $"the tokenizer has no special token '{token}' that this chat template needs", key: token,
            advice: "Use the chat template that matches the model's tokenizer.");

    public static void CheckRoles(IReadOnlyList<ChatMessage> messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var role = messages[i].Role;
            if (role is not (ChatMessage.System or ChatMessage.User or ChatMessage.Assistant) || (role == ChatMessage.System && i != 0))
            {
                throw new LlamaMoeException(ChatErrorCodes.BadTurnOrder, $"message {i + 1} has role '{role}'; expected an optional leading system message, then user/assistant turns", key: "role");
            }
        }
    }
}
