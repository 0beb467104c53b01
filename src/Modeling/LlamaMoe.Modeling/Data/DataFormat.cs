namespace LlamaMoe.Modeling.Data;

/// <summary>The layout of a data source file.</summary>
public enum DataFormat
{
    /// <summary>Chat JSON lines: <c>messages</c> (role/content) or ShareGPT <c>conversations</c> (from/value).</summary>
    Chat,

    /// <summary>Instruction JSON lines: <c>instruction</c>, optional <c>input</c>, <c>output</c>; or self-instruct <c>instances</c>.</summary>
    Instruction,

    /// <summary>A plain text file: one document per file (continual pre-training).</summary>
    Text,

    /// <summary>Text JSON lines: one document per line in the field <c>text</c>.</summary>
    TextJsonl,

    /// <summary>A stories text file: documents separated by lines holding only <c>&lt;|endoftext|&gt;</c> (TinyStories).</summary>
    Stories,

    /// <summary>GSM8K JSON lines: <c>question</c> and <c>answer</c>, read as a user/assistant conversation.</summary>
    Gsm8k,
}
