using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Generation;

/// <summary>Autoregressive decoding with a KV cache: one prefill pass over the prompt, then one token per step.</summary>
public static class TextGenerator
{
    /// <summary>Generates up to <see cref="GenerationOptions.MaxNewTokens"/> ids after <paramref name="promptIds"/>; returns only the new ids.</summary>
    public static IReadOnlyList<int> Generate(LlamaForCausalLM model, IReadOnlyList<int> promptIds, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (promptIds.Count == 0)
        {
            throw new LlamaMoeException(GenerationErrorCodes.EmptyPrompt, "generation needs at least one prompt token (for example BOS)");
        }

        var device = model.LmHeadWeight.device;
        var sampler = new TokenSampler(options);
        var stops = new HashSet<int>(options.StopTokenIds ?? []);
        var generated = new List<int>();
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        using var noGrad = torch.no_grad();
        var next = promptIds.Select(i => (long)i).ToArray();
        while (generated.Count < options.MaxNewTokens)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (cache.Length + next.Length > model.Config.MaxPositionEmbeddings)
            {
                break;
            }

            int token;
            using (var scope = NewDisposeScope())
            {
                var input = torch.tensor(next, device: device).unsqueeze(0);                     // (1, T)
                using var output = model.Forward(input, cache: cache);
                var last = output.Logits[0, -1].to_type(ScalarType.Float32).cpu();               // (V)
                token = sampler.Next(last.data<float>().ToArray());
            }

            generated.Add(token);
            if (stops.Contains(token))
            {
                break;
            }

            next = [token];
        }

        return generated;
    }
}
