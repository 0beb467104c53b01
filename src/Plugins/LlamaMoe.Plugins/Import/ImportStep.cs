using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Tokenization;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;

namespace LlamaMoe.Plugins.Import;

/// <summary>
/// <c>import</c>: turns a llama2.c checkpoint, a GGUF file or a Hugging Face folder into a dense-model artifact (a Hugging Face
/// folder: config.json, model.safetensors, tokenizer.model, generation_config.json). A Hugging Face source is loaded
/// and saved again, so what is published has been checked to load.
/// </summary>
[PipelineStep("import", typeof(ImportOptions), Description = "Import a llama2.c .bin, GGUF file or Hugging Face folder as a dense model.", Version = "1",
    Produces = ArtifactKinds.DenseModel)]
public sealed class ImportStep : PipelineStep<ImportOptions>
{
    /// <inheritdoc />
    protected override Task RunAsync(IStepContext context, ImportOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var device = ModelArtifacts.DeviceOf(context);
        LlamaConfig config;
        string format;
        if (Directory.Exists(options.Source))
        {
            config = ImportFolder(options.Source, context.OutputDirectory, options.Tokenizer, device);
            format = "hf";
        }
        else
        {
            var result = ModelImporter.Import(options.Source, context.OutputDirectory, options.Tokenizer);
            (config, format) = (result.Config, result.Format);
        }

        var tokenizer = TokenizerLoader.Load(context.OutputDirectory);
        context.Outputs["format"] = format;
        context.Outputs["layers"] = config.NumHiddenLayers.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Outputs["vocab-size"] = tokenizer.VocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Log.Info($"imported {format} model: {config.NumHiddenLayers} layers, hidden {config.HiddenSize}, vocabulary {config.VocabSize}");
        context.Progress.Report(1, 1, "imported");
        return Task.CompletedTask;
    }

    private static LlamaConfig ImportFolder(string source, string output, string? tokenizerModel, TorchSharp.torch.Device device)
    {
        if (!File.Exists(Path.Combine(source, ModelDirectory.ConfigFileName)))
        {
            throw new LlamaMoeException(PluginErrorCodes.ImportSource, "the folder to import holds no config.json", source, "source",
                "Pass a llama2.c .bin, a .gguf file, or a Hugging Face model folder.");
        }

        using var model = LlamaForCausalLM.FromDirectory(source, device);
        model.SaveDirectory(output);
        ModelDirectory.CopyCompanionFiles(source, output);
        if (tokenizerModel is not null)
        {
            AtomicFile.Copy(tokenizerModel, Path.Combine(output, "tokenizer.model"));
        }

        return model.Config;
    }
}
