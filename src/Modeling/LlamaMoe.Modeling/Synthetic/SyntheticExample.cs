namespace LlamaMoe.Modeling.Synthetic;

/// <summary>The three domains of the synthetic corpus, mirroring LLaMA-MoE v2's general / math / code mixes.</summary>
public enum SyntheticDomain
{
    /// <summary>Everyday question and answer about a small generated world.</summary>
    Conversation,

    /// <summary>Arithmetic word problems with numeric answers.</summary>
    Math,

    /// <summary>Short programs whose printed output is asked for.</summary>
    Code,
}

/// <summary>One question with its worked answer; the answer ends with GSM8K's <c>#### N</c> marker.</summary>
/// <param name="Domain">The domain it belongs to.</param>
/// <param name="Question">The question text.</param>
/// <param name="Answer">The worked answer, ending with <c>#### N</c>.</param>
/// <param name="FinalAnswer">The number after <c>####</c>.</param>
public sealed record SyntheticExample(SyntheticDomain Domain, string Question, string Answer, int FinalAnswer);

/// <summary>Options of the synthetic corpus.</summary>
/// <param name="Seed">Drives every random choice; the same seed gives byte-identical files.</param>
/// <param name="People">How many people the generated world has.</param>
/// <param name="TrainExamplesPerDomain">Training questions per domain.</param>
/// <param name="EvalExamplesPerDomain">Held-out questions per domain, disjoint from training.</param>
public sealed record SyntheticCorpusOptions(int Seed = 1, int People = 16, int TrainExamplesPerDomain = 600, int EvalExamplesPerDomain = 50)
{
    /// <summary>LMOE3201: synthetic corpus options out of range.</summary>
    public const string InvalidOptionsCode = "LMOE3201";

    /// <summary>Throws a coded error when a size is out of range.</summary>
    public void Validate()
    {
        if (People is < 2 or > 64)
        {
            throw new LlamaMoeException(InvalidOptionsCode, $"people must be between 2 and 64, got {People}", key: "people");
        }

        if (TrainExamplesPerDomain < 1 || EvalExamplesPerDomain < 1)
        {
            throw new LlamaMoeException(InvalidOptionsCode, "train and eval example counts must be at least 1", key: "train-examples");
        }
    }
}
