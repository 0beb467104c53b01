namespace LlamaMoe.Modeling.Data;

/// <summary>How encoded examples become rows.</summary>
/// <param name="SequenceLength">The row length T; longer examples are truncated to their first T tokens.</param>
/// <param name="Pack">True: greedily pack consecutive examples into rows with document-aware attention.
/// False: one example per row, right-padded (the collator trims the batch to its longest row).</param>
/// <param name="PadId">The id written on padding positions (never a target).</param>
public sealed record PackingOptions(int SequenceLength, bool Pack, int PadId = 0);
