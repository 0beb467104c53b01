using LlamaMoe.Modeling.Chat;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Tokenization;
using ChatTurn = LlamaMoe.Modeling.Chat.ChatMessage;

namespace LlamaMoe.Plugins.Training;

/// <summary>
/// Encodes training examples with a model's tokenizer: text as <c>BOS text EOS</c> with every token but the first a target;
/// conversations through a chat template, whose loss mask covers exactly the assistant turns and their end tokens.
/// </summary>
public sealed class TemplateExampleEncoder : IExampleEncoder
{
    private readonly ITextTokenizer tokenizer;
    private readonly IChatTemplate template;

    /// <summary>Creates the encoder.</summary>
    public TemplateExampleEncoder(ITextTokenizer tokenizer, IChatTemplate template)
    {
        this.tokenizer = tokenizer;
        this.template = template;
    }

    /// <inheritdoc />
    public string Id => $"{tokenizer.Kind}:{tokenizer.VocabSize}:{template.Name}:bos-eos";

    /// <summary>
    /// The chat template for a model: <paramref name="requested"/> when given, otherwise <c>llama3</c> when the tokenizer
    /// has the Llama 3 header tokens and <c>plain</c> for models without a chat format.
    /// </summary>
    public static IChatTemplate TemplateFor(ITextTokenizer tokenizer, string? requested) =>
        ChatTemplates.Get(requested ?? (tokenizer.TokenToId("<|start_header_id|>") is not null ? "llama3" : "plain"));

    /// <inheritdoc />
    public EncodedExample Encode(DataExample example)
    {
        switch (example)
        {
            case ChatExample chat:
                var encoding = template.Encode(chat.Messages.Select(m => new ChatTurn(m.Role, m.Content)).ToList(), tokenizer);
                return new EncodedExample(encoding.Ids.ToArray(), encoding.LossMask.Select(m => m != 0).ToArray());
            case TextExample text:
                var ids = tokenizer.Encode(text.Text, addBos: tokenizer.BosId is not null).ToList();
                if (tokenizer.EosId is { } eos)
                {
                    ids.Add(eos);
                }

                return EncodedExample.AllTargets(ids.ToArray());
            default:
                throw new ArgumentException($"unsupported example type {example.GetType().Name}", nameof(example));
        }
    }
}
