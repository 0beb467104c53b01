namespace LlamaMoe.Modeling.Data;

/// <summary>One message of a conversation. <see cref="Role"/> is <c>system</c>, <c>user</c> or <c>assistant</c>.</summary>
/// <param name="Role">The speaker, normalised to <c>system</c>, <c>user</c> or <c>assistant</c>.</param>
/// <param name="Content">The message text.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>One training example read from a data source, with the file and 1-based line it came from.</summary>
/// <param name="SourceFile">The file the example was read from.</param>
/// <param name="Line">The 1-based line (or first line) of the example in <paramref name="SourceFile"/>.</param>
public abstract record DataExample(string SourceFile, int Line);

/// <summary>A conversation: the loss goes on assistant turns (decided by the encoder's chat template).</summary>
/// <param name="Messages">The turns in order.</param>
/// <param name="SourceFile">The file the example was read from.</param>
/// <param name="Line">The 1-based line of the example.</param>
public sealed record ChatExample(IReadOnlyList<ChatMessage> Messages, string SourceFile, int Line) : DataExample(SourceFile, Line);

/// <summary>Plain text for continual pre-training: the loss goes on every token.</summary>
/// <param name="Text">The document text.</param>
/// <param name="SourceFile">The file the example was read from.</param>
/// <param name="Line">The 1-based first line of the document.</param>
public sealed record TextExample(string Text, string SourceFile, int Line) : DataExample(SourceFile, Line);
