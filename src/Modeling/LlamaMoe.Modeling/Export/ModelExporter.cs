using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Exports a model directory (dense LLaMA, native MoE, Mixtral, LLaMA-MoE v1 or v2, detected from config.json) to
/// <c>native</c>, <c>mixtral</c>, <c>llama-moe-v2</c>, <c>qwen2-moe</c> or <c>gguf</c>. Dense models go to gguf only; MoE
/// models with a residual expert go to gguf through llama.cpp's <c>qwen2moe</c> architecture, the others through <c>llama</c>.
/// Every format streams: one tensor (or one stacked expert projection for GGUF) is in memory at a time.
/// </summary>
public static class ModelExporter
{
    /// <summary>The export format names.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["native", "mixtral", "llama-moe-v2", "qwen2-moe", "gguf"];

    /// <summary>
    /// Opens any supported MoE directory in the native layout (LMOE1220 when it is not an MoE directory). Tensors are read
    /// from the files in their own dtype only when a writer produces them, so exports stream tensor by tensor.
    /// </summary>
    public static MoeCheckpoint ReadMoe(string directory) => NativeMoeFormat.ConfigModelType(directory) switch
    {
        MoeConfig.ModelType => NativeMoeFormat.Read(directory),
        "llama_moe" => LlamaMoeV1Reader.Read(directory),
        "mixtral" when IsV2(directory) => LlamaMoeV2Format.Read(directory),
        "mixtral" => MixtralFormat.Read(directory),
        Qwen2MoeFormat.ModelType => Qwen2MoeFormat.Read(directory),
        var other => throw NotMoe(directory, other),
    };

    /// <summary>The native config of any supported MoE directory, without reading tensor data (LMOE1220 when it is not an MoE directory).</summary>
    public static MoeConfig ReadMoeConfig(string directory) => NativeMoeFormat.ConfigModelType(directory) switch
    {
        MoeConfig.ModelType => MoeConfig.Read(Path.Combine(directory, ModelDirectory.ConfigFileName)),
        "llama_moe" => LlamaMoeV1Reader.ReadConfig(directory),
        "mixtral" when IsV2(directory) => LlamaMoeV2Format.ReadConfig(directory),
        "mixtral" => MixtralFormat.ReadConfig(directory),
        Qwen2MoeFormat.ModelType => Qwen2MoeFormat.ReadConfig(directory),
        var other => throw NotMoe(directory, other),
    };

    /// <summary>Exports <paramref name="source"/> as <paramref name="format"/> into <paramref name="output"/> (a directory, or a .gguf file for gguf).</summary>
    /// <returns>A one-line description of what was written.</returns>
    public static string Export(string source, string format, string output, GgufTensorType ggufType = GgufTensorType.F32)
    {
        if (!Formats.Contains(format))
        {
            throw new LlamaMoeException(ExportErrorCodes.UnknownFormat, $"unknown export format '{format}'", key: "format", advice: "Use " + string.Join(", ", Formats) + ".");
        }

        if (IsDense(source))
        {
            if (format != "gguf")
            {
                throw new LlamaMoeException(ExportErrorCodes.UnknownFormat, $"a dense LLaMA is exported only to gguf, not {format}", source, "format", "Use --format gguf, or convert it to MoE first.");
            }

            GgufLlamaExporter.ExportDense(source, TokenizerDirectory(source), output, ggufType);
            return $"dense llama -> gguf {output}";
        }

        using var checkpoint = ReadMoe(source);
        return ExportMoe(checkpoint, source, format, output, ggufType);
    }

    /// <summary>
    /// Exports an MoE checkpoint already read from <paramref name="source"/> (see <see cref="ReadMoe"/>) as <paramref name="format"/>, so
    /// one read serves several formats. Tokenizer and generation files are taken from <paramref name="source"/>. The folder
    /// formats get a Hugging Face model card (<see cref="ModelCard"/>) with the source's construction recipe and
    /// <paramref name="evaluation"/>. LMOE121x when the model does not fit the format, LMOE1230 for an unknown format.
    /// </summary>
    /// <returns>A one-line description of what was written.</returns>
    public static string ExportMoe(MoeCheckpoint checkpoint, string source, string format, string output, GgufTensorType ggufType = GgufTensorType.F32,
        IReadOnlyList<Evaluation.TaskScore>? evaluation = null)
    {
        switch (format)
        {
            case "native": NativeMoeFormat.Write(checkpoint, output, source); break;
            case "mixtral": MixtralFormat.Write(checkpoint, output, source); break;
            case "llama-moe-v2": LlamaMoeV2Format.Write(checkpoint, output, source); break;
            case "qwen2-moe": Qwen2MoeFormat.Write(checkpoint, output, source); break;
            case "gguf" when checkpoint.Config.ResidualSize > 0: GgufQwen2MoeExporter.Export(checkpoint, TokenizerDirectory(source), output, ggufType); break;
            case "gguf": GgufLlamaExporter.ExportMoe(checkpoint, TokenizerDirectory(source), output, ggufType); break;
            default: throw new LlamaMoeException(ExportErrorCodes.UnknownFormat, $"unknown export format '{format}'", key: "format", advice: "Use " + string.Join(", ", Formats) + ".");
        }

        if (format != "gguf")
        {
            ModelCard.Write(output, checkpoint, format, ConstructionRecipe.TryRead(source), evaluation);
        }

        return $"MoE ({checkpoint.Config.ExpertCount} experts, top-{checkpoint.Config.TopK}, {checkpoint.Config.MoeLayers.Count} MoE layers) -> {format} {output}";
    }

    /// <summary>Whether <paramref name="directory"/> holds a dense LLaMA (exported to gguf only).</summary>
    public static bool IsDense(string directory) => NativeMoeFormat.ConfigModelType(directory) == "llama";

    private static bool IsV2(string directory) =>
        File.ReadAllText(Path.Combine(directory, ModelDirectory.ConfigFileName)) is var text && (text.Contains("\"scale_factor\"", StringComparison.Ordinal) || text.Contains("\"moe_type\"", StringComparison.Ordinal));

    private static LlamaMoeException NotMoe(string directory, string? modelType) =>
        new(ExportErrorCodes.MoeConfigInvalid, $"model_type '{modelType ?? "(unreadable)"}' is not an MoE format (llamamoe, mixtral, llama_moe, qwen2_moe)",
            Path.Combine(directory, ModelDirectory.ConfigFileName), "model_type");

    private static string? TokenizerDirectory(string source) => File.Exists(Path.Combine(source, "tokenizer.model")) ? source : null;
}
