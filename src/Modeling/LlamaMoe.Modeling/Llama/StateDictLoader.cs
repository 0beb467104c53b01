using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>Copies checkpoint tensors into a module's parameters by Hugging Face name, one tensor at a time.</summary>
public static class StateDictLoader
{
    /// <summary>
    /// Loads every parameter and buffer of <paramref name="module"/> from <paramref name="checkpoint"/> (converting dtype, keeping
    /// the parameter's device). Missing or misshapen tensors are LMOE2010; with <paramref name="strict"/>, extra tensors are LMOE2011.
    /// </summary>
    public static void Load(nn.Module module, ShardedCheckpoint checkpoint, bool strict)
    {
        var targets = module.state_dict();
        using (torch.no_grad())
        {
            foreach (var (name, target) in targets)
            {
                if (!checkpoint.Contains(name))
                {
                    throw new LlamaMoeException(ConfigErrorCodes.MissingOrMisshapenTensor, $"the checkpoint has no tensor '{name}'", key: name,
                        advice: "The checkpoint does not match config.json; re-export it or fix the config.");
                }

                var info = checkpoint.Info(name);
                if (!info.Shape.SequenceEqual(target.shape))
                {
                    throw new LlamaMoeException(ConfigErrorCodes.MissingOrMisshapenTensor,
                        $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}] but the model expects [{string.Join(", ", target.shape)}]", key: name,
                        advice: "The checkpoint does not match config.json.");
                }

                using var source = checkpoint.Read(name);
                target.copy_(source);
            }
        }

        if (strict)
        {
            var extra = checkpoint.Names.FirstOrDefault(n => !targets.ContainsKey(n));
            if (extra is not null)
            {
                throw new LlamaMoeException(ConfigErrorCodes.UnexpectedTensor, $"the checkpoint has the tensor '{extra}' that the model does not use", key: extra,
                    advice: "The checkpoint does not match config.json (for example tie_word_embeddings or the number of layers).");
            }
        }
    }

    /// <summary>The module's tensors by Hugging Face name, in registration order.</summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> NamedTensors(nn.Module module) =>
        module.state_dict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value)).ToList();
}
