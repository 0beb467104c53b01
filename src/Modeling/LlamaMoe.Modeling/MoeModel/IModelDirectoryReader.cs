using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.MoeModel;

/// <summary>A reader for one more checkpoint format (by <c>model_type</c>), plugged into <see cref="CausalLanguageModelLoader"/>.</summary>
public interface IModelDirectoryReader
{
    /// <summary>The <c>model_type</c> of config.json this reader handles (for example <c>mixtral</c>, <c>llama_moe</c>).</summary>
    string ModelType { get; }

    /// <summary>Loads the directory into a model (usually with <see cref="MoeModelFactory"/> blocks).</summary>
    LlamaForCausalLM Load(string directory, Device? device, ScalarType? dtype);

    /// <summary>The native MoE config of the directory, without reading its tensors' data.</summary>
    MoeConfig ReadConfig(string directory);
}
