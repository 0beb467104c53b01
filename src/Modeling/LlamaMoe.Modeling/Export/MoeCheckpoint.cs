using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// An MoE model in memory, in the native key layout (see docs: native format): the dense base config (dense
/// <c>intermediate_size</c>, <c>model_type</c> llama), the <see cref="MoeLayout"/>, and the tensors under native names
/// (<c>model.layers.{i}.block_sparse_moe.experts.{j}.w1.weight</c>, ...). Owns the tensors.
/// </summary>
public sealed class MoeCheckpoint : IDisposable
{
    /// <summary>Creates a checkpoint (takes ownership of <paramref name="tensors"/>).</summary>
    public MoeCheckpoint(LlamaConfig baseConfig, MoeLayout layout, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        Base = baseConfig;
        Layout = layout.Validate(baseConfig.NumHiddenLayers);
        Tensors = tensors;
    }

    /// <summary>The dense architecture (model_type llama; intermediate_size of the dense source).</summary>
    public LlamaConfig Base { get; }

    /// <summary>The MoE structure.</summary>
    public MoeLayout Layout { get; }

    /// <summary>Tensors under native names, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; }

    /// <summary>The tensor called <paramref name="name"/> (LMOE1221 when absent).</summary>
    public Tensor this[string name] => Tensors.FirstOrDefault(p => p.Key == name).Value
        ?? throw new LlamaMoeException(ExportErrorCodes.MoeTensorMismatch, $"the MoE checkpoint has no tensor '{name}'", key: name, advice: "The checkpoint does not match its config.json.");

    /// <summary>Block factories that build this layout's layers (MoE layers as <see cref="SparseMoeBlock"/>, others dense).</summary>
    public LlamaBlockFactories Factories() =>
        new(FeedForward: (i, config) => Layout.IsMoe(i) ? new SparseMoeBlock(Layout.BlockOptions(i, config.HiddenSize, config.MlpBias)) : new SwiGluMlp(config));

    /// <summary>Builds the model and copies the tensors in (float32 unless <paramref name="dtype"/> is given). LMOE1221 when names or shapes disagree.</summary>
    public LlamaForCausalLM ToModel(Device? device = null, ScalarType? dtype = null)
    {
        if (Layout.AttentionMoe is not null)
        {
            throw new LlamaMoeException(ExportErrorCodes.UnsupportedVariant, "building a model with attention-MoE layers from a converted checkpoint is not supported here", key: "attention_moe",
                advice: "Load the model with the native MoE loader.");
        }

        var model = new LlamaForCausalLM(Base, Factories());
        try
        {
            model.to(dtype ?? ScalarType.Float32);
            if (device is not null)
            {
                model.to(device);
            }

            var targets = model.state_dict();
            var source = Tensors.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            using (no_grad())
            {
                foreach (var (name, target) in targets)
                {
                    if (!source.TryGetValue(name, out var tensor) || !tensor.shape.SequenceEqual(target.shape))
                    {
                        throw Mismatch(name, tensor is null ? "is missing" : $"has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", target.shape)}]");
                    }

                    target.copy_(tensor);
                }
            }

            var extra = source.Keys.FirstOrDefault(n => !targets.ContainsKey(n));
            if (extra is not null)
            {
                throw Mismatch(extra, "is not used by the model");
            }

            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Copies a model's tensors (float32 clones on CPU) into a checkpoint with <paramref name="layout"/>.</summary>
    public static MoeCheckpoint FromModel(LlamaForCausalLM model, MoeLayout layout) =>
        new(model.Config, layout, model.state_dict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value.detach().cpu().to_type(ScalarType.Float32).clone())).ToList());

    /// <summary>The layout of a model built from <see cref="SparseMoeBlock"/> layers (read from the blocks' options).</summary>
    public static MoeLayout LayoutOf(LlamaForCausalLM model, JsonObject? attentionMoe = null)
    {
        var blocks = model.Model.Layers.Select((layer, i) => (i, Block: layer.FeedForward as SparseMoeBlock)).Where(p => p.Block is not null).ToList();
        if (blocks.Count == 0)
        {
            throw new LlamaMoeException(ExportErrorCodes.MoeConfigInvalid, "the model has no MoE layer", advice: "Export dense models with the dense exporters.");
        }

        var first = blocks[0].Block!.Options;
        return new MoeLayout(first.ExpertCount, first.TopK, blocks.Select(b => b.i).ToArray(), blocks.Select(b => (IReadOnlyList<int>)b.Block!.Options.ExpertSizes.ToArray()).ToArray(),
            first.ResidualSize ?? 0, blocks.Select(b => b.Block!.Options.ScaleFactor).ToArray(), first.Router, first.Weights, first.NoisyGate, attentionMoe);
    }

    /// <summary>The LMOE1221 error for a tensor.</summary>
    public static LlamaMoeException Mismatch(string name, string problem) =>
        new(ExportErrorCodes.MoeTensorMismatch, $"tensor '{name}' {problem}", key: name, advice: "The checkpoint does not match its config.json; re-export it.");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, t) in Tensors)
        {
            t.Dispose();
        }
    }
}
