using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Modeling.Chat;

/// <summary>
/// The Llama 2 chat format: per exchange <c>&lt;s&gt;[INST] user [/INST] assistant &lt;/s&gt;</c>, with the system prompt
/// wrapped in <c>&lt;&lt;SYS&gt;&gt;\n...\n&lt;&lt;/SYS&gt;&gt;\n\n</c> inside the first user turn. The instruction part is
/// encoded as one SentencePiece segment and the answer as another; answer tokens and their <c>&lt;/s&gt;</c> are trained on.
/// </summary>
public sealed class Llama2ChatTemplate : IChatTemplate
{
    /// <inheritdoc />
    public string Name => "llama2";

    /// <inheritdoc />
    public ChatEncoding Encode(IReadOnlyList<ChatMessage> messages, ITextTokenizer tokenizer, bool addGenerationPrompt = false)
    {
        ChatEncodingBuilder.CheckRoles(messages);
        var bos = tokenizer.BosId ?? throw new LlamaMoeException(ChatErrorCodes.MissingSpecialToken, "the Llama 2 chat template needs a tokenizer with BOS");
        var eos = tokenizer.EosId ?? throw new LlamaMoeException(ChatErrorCodes.MissingSpecialToken, "the Llama 2 chat template needs a tokenizer with EOS");
        var system = messages.Count > 0 && messages[0].Role == ChatMessage.System ? messages[0].Content.Trim() : null;
        var turns = messages.Skip(system is null ? 0 : 1).ToList();
        var builder = new ChatEncodingBuilder();
        for (var i = 0; i < turns.Count; i++)
        {
            if (turns[i].Role != ChatMessage.User || (i + 1 < turns.Count && turns[i + 1].Role != ChatMessage.Assistant))
            {
                throw new LlamaMoeException(ChatErrorCodes.BadTurnOrder, "Llama 2 chat needs alternating user/assistant turns starting with user", key: "role");
            }

            var user = turns[i].Content.Trim();
            if (i == 0 && system is not null)
            {
                user = $"<<SYS>>\n{system}\n<</SYS>>\n\n{user}";
            }

            builder.Add([bos, .. tokenizer.Encode($"[INST] {user} [/INST]")], train: false);
            if (i + 1 < turns.Count)
            {
                builder.Add([.. tokenizer.Encode(turns[i + 1].Content.Trim()), eos], train: true);
                i++;
            }
            else if (!addGenerationPrompt)
            {
                throw new LlamaMoeException(ChatErrorCodes.BadTurnOrder, "the conversation ends with a user turn; pass addGenerationPrompt to prompt the assistant", key: "role");
            }
        }

        return builder.Build();
    }
}
