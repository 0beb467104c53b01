using System.Globalization;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Synthetic;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Training;

/// <summary>
/// <c>model/init</c>: a randomly initialised small dense LLaMA (weights N(0, 0.02), norms 1) with a BPE tokenizer trained on a
/// text dataset (or a given tokenizer.model). Pre-train it with <c>train-dense</c> on a text source.
/// </summary>
[PipelineStep("model/init", typeof(InitModelOptions), Description = "Create a randomly initialised small dense LLaMA with a tokenizer trained on text.", Version = "1",
    Consumes = [ArtifactKinds.Dataset, ArtifactKinds.Files], Produces = ArtifactKinds.DenseModel)]
public sealed class InitModelStep : PipelineStep<InitModelOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, InitModelOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var device = ModelArtifacts.DeviceOf(context);
        var tokenizerPath = Path.Combine(context.OutputDirectory, "tokenizer.model");
        if (options.Tokenizer is not null)
        {
            AtomicFile.Copy(options.Tokenizer, tokenizerPath);
        }
        else
        {
            var texts = DataSourceReader.Read(new DataSourceSpec(options.Data!, options.Format)).SelectMany(TextsOf).ToList();
            context.Progress.Report(0, 2, "training the tokenizer");
            var bytes = SentencePieceBpeTrainer.Train(texts, options.VocabSize);
            AtomicFile.Write(tokenizerPath, s => s.Write(bytes));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var tokenizer = TokenizerLoader.Load(context.OutputDirectory);
        if (tokenizer.BosId is null || tokenizer.EosId is null)
        {
            throw new LlamaMoeException(PluginErrorCodes.Tokenizer, "the tokenizer has no BOS or EOS token", tokenizerPath, "tokenizer",
                "Use a SentencePiece model with <s> and </s>.");
        }

        var config = new LlamaConfig
        {
            VocabSize = tokenizer.VocabSize,
            HiddenSize = options.Hidden,
            IntermediateSize = options.Intermediate,
            NumHiddenLayers = options.Layers,
            NumAttentionHeads = options.Heads,
            NumKeyValueHeads = options.KvHeads ?? options.Heads,
            MaxPositionEmbeddings = options.SeqLen,
            RmsNormEps = 1e-5,
            TieWordEmbeddings = options.TieEmbeddings,
            BosTokenId = tokenizer.BosId,
            EosTokenIds = [tokenizer.EosId.Value],
        };
        manual_seed(options.Seed ?? context.Seed);
        using var model = new LlamaForCausalLM(config);
        Initialise(model);
        model.to(device);
        model.SaveDirectory(context.OutputDirectory);
        ModelDirectory.WriteGenerationConfig(context.OutputDirectory, config.BosTokenId, config.EosTokenIds);
        var c = CultureInfo.InvariantCulture;
        context.Outputs["vocab-size"] = config.VocabSize.ToString(c);
        context.Outputs["parameters"] = model.parameters().Sum(p => p.numel()).ToString(c);
        context.Log.Info($"initialised a {options.Layers}-layer dense LLaMA (hidden {options.Hidden}, vocabulary {config.VocabSize})");
        context.Progress.Report(2, 2, "initialised");
        return Task.CompletedTask;
    }

    /// <summary>GPT-2/LLaMA style: matrices N(0, 0.02), norm weights 1, biases 0.</summary>
    private static void Initialise(LlamaForCausalLM model)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (parameter.dim() >= 2)
            {
                parameter.normal_(0.0, 0.02);
            }
            else
            {
                parameter.fill_(name.EndsWith("norm.weight", StringComparison.Ordinal) ? 1.0 : 0.0);
            }
        }
    }

    private static IEnumerable<string> TextsOf(DataExample example) => example switch
    {
        TextExample text => [text.Text],
        ChatExample chat => chat.Messages.Select(m => m.Content),
        _ => [],
    };
}
