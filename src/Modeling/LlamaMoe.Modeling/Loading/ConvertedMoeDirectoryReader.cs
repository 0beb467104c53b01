using LlamaMoe.Modeling.Export;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.MoeModel;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Loading;

/// <summary>
/// Lets <see cref="CausalLanguageModelLoader"/> load MoE directories of another layout through the format readers of
/// <see cref="ModelExporter.ReadMoe"/>: <c>mixtral</c> (Hugging Face Mixtral and the LLaMA-MoE v2 release) and
/// <c>llama_moe</c> (LLaMA-MoE v1). The model is built from the native <see cref="MoeConfig"/>, so it saves as native.
/// </summary>
/// <param name="modelType">The config.json <c>model_type</c> handled.</param>
public sealed class ConvertedMoeDirectoryReader(string modelType) : IModelDirectoryReader
{
    /// <summary>Mixtral and LLaMA-MoE v2 directories (model_type <c>mixtral</c>).</summary>
    public static ConvertedMoeDirectoryReader Mixtral { get; } = new("mixtral");

    /// <summary>LLaMA-MoE v1 directories (model_type <c>llama_moe</c>).</summary>
    public static ConvertedMoeDirectoryReader LlamaMoeV1 { get; } = new("llama_moe");

    /// <summary>Qwen2-MoE directories written for the residual variant (model_type <c>qwen2_moe</c>).</summary>
    public static ConvertedMoeDirectoryReader Qwen2Moe { get; } = new(Qwen2MoeFormat.ModelType);

    /// <inheritdoc />
    public string ModelType => modelType;

    /// <inheritdoc />
    public LlamaForCausalLM Load(string directory, Device? device, ScalarType? dtype)
    {
        using var checkpoint = ModelExporter.ReadMoe(directory);
        return checkpoint.ToModel(device, dtype ?? DtypeNames.Parse(checkpoint.Config.Dense.TorchDtype));
    }

    /// <inheritdoc />
    public MoeConfig ReadConfig(string directory) => ModelExporter.ReadMoeConfig(directory);
}
