using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Modeling.Chat;

/// <summary>
/// Plain text for base models: BOS, then each system/user message as its text plus a newline (not trained on), and each
/// assistant message as its text plus EOS (trained on).
/// </summary>
public sealed class PlainChatTemplate : IChatTemplate
{
    /// <inheritdoc />
    public string Name => "plain";

    /// <inheritdoc />
    public ChatEncoding Encode(IReadOnlyList<ChatMessage> messages, ITextTokenizer tokenizer, bool addGenerationPrompt = false)
    {
        ChatEncodingBuilder.CheckRoles(messages);
        var builder = new ChatEncodingBuilder();
        if (tokenizer.BosId is { } bos)
        {
            builder.Add([bos], train: false);
        }

        foreach (var message in messages)
        {
            if (message.Role == ChatMessage.Assistant)
            {
                builder.Add(tokenizer.Encode(message.Content.Trim()), train: true);
                builder.Add(tokenizer.EosId is { } eos ? [eos] : [], train: true);
            }
            else
            {
                builder.Add(tokenizer.Encode(message.Content.Trim() + "\n"), train: false);
            }
        }

        return builder.Build();
    }
}
