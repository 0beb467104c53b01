using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Reads and writes the native LlamaMoe MoE directory (model_type <c>llamamoe</c>; docs/native-format.md) as a
/// <see cref="MoeCheckpoint"/>. The config.json is read and written by <see cref="MoeConfig"/>, the same code the
/// construction side and <see cref="CausalLanguageModelLoader"/> use; tensors keep their native names.
/// </summary>
public static class NativeMoeFormat
{
    /// <summary>Whether <paramref name="directory"/>'s config.json declares model_type llamamoe.</summary>
    public static bool IsNative(string directory) => ConfigModelType(directory) == MoeConfig.ModelType;

    /// <summary>The model_type of a directory's config.json (<c>llama</c> when absent), or null when unreadable.</summary>
    public static string? ConfigModelType(string directory)
    {
        try
        {
            return ModelDirectory.ModelTypeOf(directory);
        }
        catch (LlamaMoeException)
        {
            return null;
        }
    }

    /// <summary>Opens a native MoE directory; tensors are read when used (config errors LMOE2201–LMOE2204).</summary>
    public static MoeCheckpoint Read(string directory)
    {
        var config = MoeConfig.Read(Path.Combine(directory, ModelDirectory.ConfigFileName));
        return CheckpointTensors.Open(directory, config);
    }

    /// <summary>Writes <paramref name="checkpoint"/> as a native directory, one tensor at a time in its own dtype; tokenizer files and generation_config.json are copied from <paramref name="companionSource"/> when given.</summary>
    public static void Write(MoeCheckpoint checkpoint, string directory, string? companionSource = null, long maxShardBytes = 5L << 30)
    {
        Directory.CreateDirectory(directory);
        StreamingCheckpointWriter.Write(directory, checkpoint.Entries, maxShardBytes);
        checkpoint.Config.Write(Path.Combine(directory, ModelDirectory.ConfigFileName));
        FinishDirectory(checkpoint, directory, companionSource);
    }

    /// <summary>Copies companion files (or writes generation_config.json) into an exported directory.</summary>
    internal static void FinishDirectory(MoeCheckpoint checkpoint, string directory, string? companionSource)
    {
        if (companionSource is not null)
        {
            ModelDirectory.CopyCompanionFiles(companionSource, directory);
        }

        if (!File.Exists(Path.Combine(directory, ModelDirectory.GenerationConfigFileName)))
        {
            ModelDirectory.WriteGenerationConfig(directory, checkpoint.Config.Dense.BosTokenId, checkpoint.Config.Dense.EosTokenIds);
        }
    }
}
