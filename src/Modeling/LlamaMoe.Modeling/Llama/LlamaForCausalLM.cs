using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Llama;

/// <summary>
/// LLaMA with a language-model head, with exactly the Hugging Face parameter names (<c>model.embed_tokens.weight</c>,
/// <c>model.layers.{i}.self_attn.q_proj.weight</c>, ..., <c>lm_head.weight</c> unless tied).
/// </summary>
public sealed class LlamaForCausalLM : nn.Module<Tensor, Tensor>, ICausalLanguageModel
{
    private readonly Linear? lmHead;

    /// <summary>Builds a randomly initialised model (float32, CPU); cast and move it with <c>to(...)</c>.</summary>
    public LlamaForCausalLM(LlamaConfig config, LlamaBlockFactories? factories = null) : base(nameof(LlamaForCausalLM))
    {
        Config = config.Validate().EnsureFitsInMemory();
        Model = new LlamaModel(config, factories ?? LlamaBlockFactories.Dense);
        register_module("model", Model);
        if (!config.TieWordEmbeddings)
        {
            lmHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
            register_module("lm_head", lmHead);
        }
    }

    /// <summary>Parts are registered explicitly under their Hugging Face names; no reflection-based registration.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The architecture.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The directory the model was loaded from (its tokenizer files are copied along on save), or null.</summary>
    public string? SourceDirectory { get; private set; }

    /// <summary>The trunk.</summary>
    public LlamaModel Model { get; }

    /// <summary>The output projection weight <c>(V, D)</c> (the embedding when tied).</summary>
    public Tensor LmHeadWeight => lmHead?.weight ?? Model.EmbedTokens.weight!;

    /// <inheritdoc />
    nn.Module ICausalLanguageModel.Module => this;

    /// <summary>The feed-forward slot of every decoder layer, in layer order (dense <see cref="SwiGluMlp"/> or MoE).</summary>
    public IReadOnlyList<FeedForwardBlock> FeedForwardBlocks => Model.Layers.Select(layer => layer.FeedForward).ToList();

    /// <summary>The device the parameters live on.</summary>
    public Device Device => LmHeadWeight.device;

    /// <inheritdoc />
    Tensor ICausalLanguageModel.Forward(Tensor inputIds, Tensor? positionIds, Tensor? attentionMask)
    {
        using var output = Forward(inputIds, positionIds, attentionMask);
        return output.Logits.alias(); // (B, T, V)
    }

    /// <summary>Logits <c>(B, T, V)</c> for <paramref name="inputIds"/> <c>(B, T)</c>.</summary>
    public override Tensor forward(Tensor inputIds)
    {
        using var output = Forward(inputIds);
        return output.Logits.alias();
    }

    /// <summary>Runs the model.</summary>
    /// <param name="inputIds">Token ids <c>(B, T)</c>.</param>
    /// <param name="positionIds">Positions <c>(B, T)</c> (restarting per packed document), or null.</param>
    /// <param name="attentionMask">Padding <c>(B, S)</c>, boolean <c>(B, 1, T, S)</c> or additive <c>(B, 1, T, S)</c> mask, or null.</param>
    /// <param name="cache">KV cache, or null.</param>
    /// <param name="returnHiddenStates">Whether to return the final hidden states too.</param>
    public CausalLMOutput Forward(Tensor inputIds, Tensor? positionIds = null, Tensor? attentionMask = null, KvCache? cache = null, bool returnHiddenStates = false)
    {
        using var scope = NewDisposeScope();
        var hidden = Model.Forward(inputIds, positionIds, attentionMask, cache);  // (B, T, D)
        var logits = nn.functional.linear(hidden, LmHeadWeight);                  // (B, T, V)
        return new CausalLMOutput(logits.MoveToOuterDisposeScope(), returnHiddenStates ? hidden.MoveToOuterDisposeScope() : null);
    }

    /// <summary>Loads a Hugging Face model directory (config.json + safetensors).</summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="device">Target device (CPU when null).</param>
    /// <param name="dtype">Parameter dtype; null keeps the config's <c>torch_dtype</c>.</param>
    /// <param name="factories">Block factories (MoE); null for dense.</param>
    public static LlamaForCausalLM FromDirectory(string directory, Device? device = null, ScalarType? dtype = null, LlamaBlockFactories? factories = null)
    {
        var configPath = Path.Combine(directory, ModelDirectory.ConfigFileName);
        var config = LlamaConfigJson.Read(configPath).EnsureFitsInMemory(configPath);
        using var checkpoint = ShardedCheckpoint.Open(directory);
        var model = FromCheckpoint(config, checkpoint, device, dtype, factories);
        model.SourceDirectory = Path.GetFullPath(directory);
        return model;
    }

    /// <summary>Builds a model for <paramref name="config"/> and fills it from <paramref name="checkpoint"/>.</summary>
    public static LlamaForCausalLM FromCheckpoint(LlamaConfig config, ShardedCheckpoint checkpoint, Device? device = null, ScalarType? dtype = null, LlamaBlockFactories? factories = null)
    {
        var model = new LlamaForCausalLM(config, factories);
        try
        {
            model.to(dtype ?? DtypeNames.Parse(config.TorchDtype));
            if (device is not null)
            {
                model.to(device);
            }

            StateDictLoader.Load(model, checkpoint, strict: true);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Saves the model as a Hugging Face directory: weights (sharded above <paramref name="maxShardBytes"/>), config.json, and the
    /// tokenizer files and generation_config.json of <paramref name="companionSource"/> (default: <see cref="SourceDirectory"/>);
    /// a generation_config.json is written from the config when none is copied. Every file is written atomically.
    /// </summary>
    public void SaveDirectory(string directory, long maxShardBytes = 5L << 30, string? companionSource = null)
    {
        var saved = Config with { TorchDtype = DtypeNames.Name(LmHeadWeight.dtype) };
        ModelDirectory.SaveWeights(directory, StateDictLoader.NamedTensors(this), maxShardBytes);
        var source = companionSource ?? SourceDirectory;
        var copied = source is null ? [] : ModelDirectory.CopyCompanionFiles(source, directory);
        if (!copied.Contains(ModelDirectory.GenerationConfigFileName) && !File.Exists(Path.Combine(directory, ModelDirectory.GenerationConfigFileName)))
        {
            ModelDirectory.WriteGenerationConfig(directory, Config.BosTokenId, Config.EosTokenIds);
        }

        LlamaConfigJson.Write(saved, Path.Combine(directory, ModelDirectory.ConfigFileName));
    }
}

/// <summary>The outputs of <see cref="LlamaForCausalLM.Forward"/>; disposing disposes them.</summary>
/// <param name="Logits">Logits <c>(B, T, V)</c>.</param>
/// <param name="HiddenStates">Final normalised hidden states <c>(B, T, D)</c>, when requested.</param>
public sealed record CausalLMOutput(Tensor Logits, Tensor? HiddenStates) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Logits.Dispose();
        HiddenStates?.Dispose();
    }
}
