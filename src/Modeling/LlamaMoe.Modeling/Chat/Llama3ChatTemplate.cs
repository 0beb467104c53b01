using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Modeling.Chat;

/// <summary>
/// The Llama 3 chat format: <c>&lt;|begin_of_text|&gt;</c>, then per message
/// <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c>. Assistant content and its
/// <c>&lt;|eot_id|&gt;</c> are trained on.
/// </summary>
public sealed class Llama3ChatTemplate : IChatTemplate
{
    /// <inheritdoc />
    public string Name => "llama3";

    /// <inheritdoc />
    public ChatEncoding Encode(IReadOnlyList<ChatMessage> messages, ITextTokenizer tokenizer, bool addGenerationPrompt = false)
    {
        ChatEncodingBuilder.CheckRoles(messages);
        var begin = ChatEncodingBuilder.Special(tokenizer, "<|begin_of_text|>");
        var startHeader = ChatEncodingBuilder.Special(tokenizer, "<|start_header_id|>");
        var endHeader = ChatEncodingBuilder.Special(tokenizer, "<|end_header_id|>");
        var eot = ChatEncodingBuilder.Special(tokenizer, "<|eot_id|>");
        var builder = new ChatEncodingBuilder();
        builder.Add([begin], train: false);
        foreach (var message in messages)
        {
            var assistant = message.Role == ChatMessage.Assistant;
            builder.Add([startHeader, .. tokenizer.Encode(message.Role), endHeader, .. tokenizer.Encode("\n\n")], train: false);
            builder.Add([.. tokenizer.Encode(message.Content.Trim()), eot], train: assistant);
        }

        if (addGenerationPrompt)
        {
            builder.Add([startHeader, .. tokenizer.Encode(ChatMessage.Assistant), endHeader, .. tokenizer.Encode("\n\n")], train: false);
        }

        return builder.Build();
    }
}
