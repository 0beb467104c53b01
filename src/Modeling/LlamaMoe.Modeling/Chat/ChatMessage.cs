namespace LlamaMoe.Modeling.Chat;

/// <summary>One conversation turn.</summary>
/// <param name="Role"><c>system</c>, <c>user</c> or <c>assistant</c>.</param>
/// <param name="Content">The text.</param>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The system role.</summary>
    public const string System = "system";

    /// <summary>The user role.</summary>
    public const string User = "user";

    /// <summary>The assistant role.</summary>
    public const string Assistant = "assistant";
}

/// <summary>A tokenized conversation: ids and a per-token loss mask (1 = train on this token: assistant text and its end token).</summary>
/// <param name="Ids">Token ids.</param>
/// <param name="LossMask">One entry per id.</param>
public sealed record ChatEncoding(IReadOnlyList<int> Ids, IReadOnlyList<byte> LossMask);
