using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// An MoE model in the native key layout (see docs: native format): its <see cref="MoeConfig"/> (the dense architecture
/// with the dense <c>intermediate_size</c>, plus the MoE layout) and its tensors under native names
/// (<c>model.layers.{i}.block_sparse_moe.experts.{j}.w1.weight</c>, ...). The tensors are either in memory (owned) or
/// <see cref="Entries"/> streamed from open files (read in the file's dtype only when produced, so exporting from a
/// directory holds one tensor at a time).
/// </summary>
public sealed class MoeCheckpoint : IDisposable
{
    private readonly IReadOnlyList<KeyValuePair<string, Tensor>>? owned;
    private readonly IDisposable? source;
    private readonly Dictionary<string, StreamedTensor> byName;
    private List<KeyValuePair<string, Tensor>>? loaded;

    /// <summary>Creates a checkpoint (takes ownership of <paramref name="tensors"/>); the config is validated (LMOE2202).</summary>
    public MoeCheckpoint(MoeConfig config, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
        : this(config, tensors.Select(StreamedTensor.Of).ToList(), null)
    {
        owned = tensors;
    }

    /// <summary>
    /// Creates a streamed checkpoint: each entry produces a new tensor when asked (its consumer disposes it);
    /// <paramref name="source"/> (the open files, or null) is disposed with the checkpoint. The config is validated (LMOE2202).
    /// </summary>
    public MoeCheckpoint(MoeConfig config, IReadOnlyList<StreamedTensor> entries, IDisposable? source)
    {
        Config = config.Validate();
        Entries = entries;
        this.source = source;
        byName = new Dictionary<string, StreamedTensor>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!byName.TryAdd(entry.Name, entry))
            {
                throw Mismatch(entry.Name, "appears twice (two source tensors map to one native name)");
            }
        }
    }

    /// <summary>The native MoE config: <see cref="MoeConfig.Dense"/> is the dense architecture (model_type llama).</summary>
    public MoeConfig Config { get; }

    /// <summary>The tensors under native names, in order, as streamed tensors: name, dtype and shape without reading data.</summary>
    public IReadOnlyList<StreamedTensor> Entries { get; }

    /// <summary>
    /// Every tensor in memory, in order (read on first use and kept until disposal for a streamed checkpoint). Writers use
    /// <see cref="Entries"/> or <see cref="Read"/> instead, which hold one tensor at a time.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors => owned ?? (loaded ??= Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name, e.Produce().DetachFromDisposeScope())).ToList());

    /// <summary>The tensor called <paramref name="name"/>, from <see cref="Tensors"/> (LMOE1221 when absent).</summary>
    public Tensor this[string name] => Tensors.FirstOrDefault(p => p.Key == name).Value ?? throw Missing(name);

    /// <summary>Whether the checkpoint has a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The entry called <paramref name="name"/> (LMOE1221 when absent).</summary>
    public StreamedTensor Entry(string name) => byName.TryGetValue(name, out var entry) ? entry : throw Missing(name);

    /// <summary>Produces the tensor called <paramref name="name"/>; the caller disposes it (LMOE1221 when absent).</summary>
    public Tensor Read(string name) => Entry(name).Produce();

    /// <summary>
    /// Builds the model (<see cref="MoeModelFactory"/> blocks, so attention-MoE layers too; its config is the native one)
    /// and copies the tensors in (float32 unless <paramref name="dtype"/> is given). LMOE1221 when names or shapes disagree.
    /// </summary>
    public LlamaForCausalLM ToModel(Device? device = null, ScalarType? dtype = null)
    {
        var model = new LlamaForCausalLM(Config.ToLlamaConfig(), MoeModelFactory.Factories(Config));
        try
        {
            model.to(dtype ?? ScalarType.Float32);
            if (device is not null)
            {
                model.to(device);
            }

            var targets = model.state_dict();
            using (no_grad())
            {
                foreach (var (name, target) in targets)
                {
                    if (!byName.TryGetValue(name, out var entry) || !entry.Shape.SequenceEqual(target.shape))
                    {
                        throw Mismatch(name, entry is null ? "is missing" : $"has shape [{string.Join(", ", entry.Shape)}], expected [{string.Join(", ", target.shape)}]");
                    }

                    using var scope = NewDisposeScope();
                    target.copy_(entry.Produce());
                }
            }

            var extra = byName.Keys.FirstOrDefault(n => !targets.ContainsKey(n));
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

    /// <summary>Copies a model's tensors (float32 clones on CPU) into a checkpoint with <paramref name="config"/>.</summary>
    public static MoeCheckpoint FromModel(LlamaForCausalLM model, MoeConfig config) =>
        new(config, model.state_dict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value.detach().cpu().to_type(ScalarType.Float32).clone())).ToList());

    /// <summary>
    /// The MoE config of a model built from <see cref="SparseMoeBlock"/> layers, read from the blocks' options; the dense part
    /// is the model's config (its MoE keys removed). <paramref name="attentionMoe"/> defaults to the model config's
    /// <c>attention_moe</c> (native models).
    /// </summary>
    public static MoeConfig ConfigOf(LlamaForCausalLM model, JsonObject? attentionMoe = null)
    {
        var blocks = model.Model.Layers.Select((layer, i) => (i, Block: layer.FeedForward as SparseMoeBlock)).Where(p => p.Block is not null).ToList();
        if (blocks.Count == 0)
        {
            throw new LlamaMoeException(ExportErrorCodes.MoeConfigInvalid, "the model has no MoE layer", advice: "Export dense models with the dense exporters.");
        }

        var native = MoeModelFactory.MoeConfigOf(model);
        var first = blocks[0].Block!.Options;
        return new MoeConfig
        {
            Dense = native?.Dense ?? model.Config,
            ExpertCount = first.ExpertCount,
            TopK = first.TopK,
            MoeLayers = blocks.Select(b => b.i).ToArray(),
            ExpertSizes = blocks.Select(b => (IReadOnlyList<int>)b.Block!.Options.ExpertSizes.ToArray()).ToArray(),
            ResidualSize = first.ResidualSize ?? 0,
            ScaleFactors = blocks.Select(b => b.Block!.Options.ScaleFactor).ToArray(),
            Router = new MoeRouterSpec(first.Router, first.Weights, first.NoisyGate),
            AttentionMoe = attentionMoe ?? native?.AttentionMoe?.DeepClone(),
        };
    }

    /// <summary>The LMOE1221 error for a tensor.</summary>
    public static LlamaMoeException Mismatch(string name, string problem) =>
        new(ExportErrorCodes.MoeTensorMismatch, $"tensor '{name}' {problem}", key: name, advice: "The checkpoint does not match its config.json; re-export it.");

    private static LlamaMoeException Missing(string name) =>
        new(ExportErrorCodes.MoeTensorMismatch, $"the MoE checkpoint has no tensor '{name}'", key: name, advice: "The checkpoint does not match its config.json.");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, t) in owned ?? loaded ?? [])
        {
            t.Dispose();
        }

        source?.Dispose();
    }
}
