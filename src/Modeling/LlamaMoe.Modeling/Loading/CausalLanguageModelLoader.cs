using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.MoeModel;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Loading;

/// <summary>
/// One entry point for loading any supported causal LM directory into a <see cref="LlamaForCausalLM"/>: dense LLaMA
/// (<c>model_type: llama</c>), the native MoE format (<c>llamamoe</c>), and through <see cref="ConvertedMoeDirectoryReader"/>
/// Mixtral and LLaMA-MoE v2 (<c>mixtral</c>) and LLaMA-MoE v1 (<c>llama_moe</c>). Further formats plug in through
/// <see cref="RegisterReader"/>. <see cref="Save"/> writes the native format atomically.
/// </summary>
public static class CausalLanguageModelLoader
{
    private static readonly Dictionary<string, IModelDirectoryReader> Readers = new(StringComparer.Ordinal)
    {
        [ConvertedMoeDirectoryReader.Mixtral.ModelType] = ConvertedMoeDirectoryReader.Mixtral,
        [ConvertedMoeDirectoryReader.LlamaMoeV1.ModelType] = ConvertedMoeDirectoryReader.LlamaMoeV1,
        [ConvertedMoeDirectoryReader.Qwen2Moe.ModelType] = ConvertedMoeDirectoryReader.Qwen2Moe,
    };

    /// <summary>Registers a reader for another <c>model_type</c> (replacing the reader of that type).</summary>
    public static void RegisterReader(IModelDirectoryReader reader)
    {
        lock (Readers)
        {
            Readers[reader.ModelType] = reader;
        }
    }

    /// <summary>Whether the directory holds a native MoE model.</summary>
    public static bool IsNativeMoe(string directory) => ModelDirectory.ModelTypeOf(directory) == MoeConfig.ModelType;

    /// <summary>Loads a dense or MoE model directory.</summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="device">Target device (CPU when null).</param>
    /// <param name="dtype">Parameter dtype; null keeps the config's <c>torch_dtype</c>.</param>
    /// <exception cref="LlamaMoeException">LMOE2205 for an unknown model_type; config and checkpoint errors as raised by the readers.</exception>
    public static LlamaForCausalLM Load(string directory, Device? device = null, ScalarType? dtype = null)
    {
        var type = ModelDirectory.ModelTypeOf(directory);
        switch (type)
        {
            case "llama":
                return LlamaForCausalLM.FromDirectory(directory, device, dtype);
            case MoeConfig.ModelType:
                {
                    var config = MoeConfig.Read(Path.Combine(directory, ModelDirectory.ConfigFileName));
                    using var checkpoint = ShardedCheckpoint.Open(directory);
                    return LlamaForCausalLM.FromCheckpoint(config.ToLlamaConfig(), checkpoint, device, dtype, MoeModelFactory.Factories(config));
                }

            default:
                return ReaderFor(type, directory).Load(directory, device, dtype);
        }
    }

    /// <summary>
    /// The native MoE config of a model directory without reading tensor data: null for a dense LLaMA, the config itself
    /// for a native directory, the converted config for Mixtral / LLaMA-MoE v1 / v2 (and registered readers).
    /// </summary>
    /// <exception cref="LlamaMoeException">LMOE2205 for an unknown model_type; config errors as raised by the readers.</exception>
    public static MoeConfig? ReadMoeConfig(string directory)
    {
        var type = ModelDirectory.ModelTypeOf(directory);
        return type switch
        {
            "llama" => null,
            MoeConfig.ModelType => MoeConfig.Read(Path.Combine(directory, ModelDirectory.ConfigFileName)),
            _ => ReaderFor(type, directory).ReadConfig(directory),
        };
    }

    private static IModelDirectoryReader ReaderFor(string type, string directory)
    {
        lock (Readers)
        {
            return Readers.TryGetValue(type, out var reader)
                ? reader
                : throw new LlamaMoeException(ConstructionErrorCodes.UnknownModelFormat, $"model_type '{type}' is not supported", Path.Combine(directory, ModelDirectory.ConfigFileName), "model_type",
                    "Supported: llama, llamamoe, " + string.Join(", ", Readers.Keys.Order(StringComparer.Ordinal)) + ".");
        }
    }

    /// <summary>
    /// Saves <paramref name="model"/> (dense or MoE) with its config into <paramref name="directory"/>: written into a
    /// temporary sibling directory, then renamed into place (an existing directory is replaced). Tokenizer files and
    /// generation_config.json are copied from <paramref name="companionSource"/> when given.
    /// </summary>
    public static void Save(LlamaForCausalLM model, string directory, string? companionSource = null, long maxShardBytes = 5L << 30) =>
        AtomicDirectory.Publish(directory, temp =>
        {
            model.SaveDirectory(temp, maxShardBytes);
            if (companionSource is not null)
            {
                ModelDirectory.CopyCompanionFiles(companionSource, temp);
            }
        });
}
