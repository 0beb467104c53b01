namespace LlamaMoe.Build.Tasks.Tests.Integration;

/// <summary>
/// What the model-build integration tests expect of the sample repository's recipe. When the recipe is replaced (for
/// example by one that imports a real checkpoint, trains and evaluates), only this description changes.
/// </summary>
internal static class SampleRecipe
{
    /// <summary>The recipe file, relative to the sample repository.</summary>
    public const string File = "recipes/tiny-moe.yaml";

    /// <summary>The pipeline's <c>name:</c>; outputs are published under <c>recipes/artifacts/NAME/</c>.</summary>
    public const string PipelineName = "tiny-moe";

    /// <summary>Every stage, in dependency order.</summary>
    public static readonly string[] Stages = ["data", "init", "dense", "split", "router", "moe", "tune"];

    /// <summary>Files each published stage folder must hold.</summary>
    public static readonly (string Stage, string File)[] ExpectedFiles =
    [
        ("dense", "model.safetensors"),
        ("split", "partition.json"),
        ("moe", "config.json"),
        ("tune", "model.safetensors"),
        ("tune", "config.json"),
        ("tune", "tokenizer.model"),
        ("tune", "metrics.jsonl"),
    ];

    /// <summary>
    /// An edit of one option of a later stage, and the stages it must rerun (that stage and its successors). The edit
    /// must change the stage's output: an edit whose output is byte-identical stops the cascade there (early cut-off).
    /// </summary>
    public static readonly (string Find, string Replace, string[] Reruns) LateStageEdit =
        ("    with: { top-k: 2 }", "    with: { top-k: 1 }", ["moe", "tune"]);

    /// <summary>A YAML mistake: the text that replaces a valid value, the bad token to locate, and the code expected.</summary>
    public static readonly (string Find, string Replace, string BadToken, string Code) Mistake =
        ("      experts: 4", "      experts: four", "four", "LMOE0052");

    /// <summary>The splitter stage that uses the repository's own plugin, the stage giving its model, and its expert count.</summary>
    public static readonly (string SplitStage, string ModelStage, int Experts, bool Descending) CustomSplit = ("split", "dense", 4, true);
}
