namespace LlamaMoe.Modeling.Chat;

/// <summary>Looks chat templates up by name.</summary>
public static class ChatTemplates
{
    /// <summary>The template called <paramref name="name"/> (<c>llama2</c>, <c>llama3</c>, <c>plain</c>).</summary>
    public static IChatTemplate Get(string name) => name switch
    {
        "llama2" => new Llama2ChatTemplate(),
        "llama3" => new Llama3ChatTemplate(),
        "plain" => new PlainChatTemplate(),
        _ => throw new LlamaMoeException(ChatErrorCodes.UnknownTemplate, $"unknown chat template '{name}'", key: name, advice: "Use llama2, llama3 or plain."),
    };
}
