namespace LlamaMoe.Modeling.Chat;

/// <summary>Error codes of chat templates (LMOE209x).</summary>
public static class ChatErrorCodes
{
    /// <summary>LMOE2091: the tokenizer lacks a special token the template needs.</summary>
    public const string MissingSpecialToken = "LMOE2091";

    /// <summary>LMOE2092: the conversation's roles are not in an order the template accepts.</summary>
    public const string BadTurnOrder = "LMOE2092";

    /// <summary>LMOE2093: an unknown chat template name.</summary>
    public const string UnknownTemplate = "LMOE2093";
}
