using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;
using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.SentencePiece;
using LlamaMoe.Modeling.Tokenization;

namespace LlamaMoe.Modeling.Export;

/// <summary>
/// Writes GGUF tokenizer metadata for a SentencePiece <c>tokenizer.model</c>: <c>tokenizer.ggml.model</c> = llama, tokens,
/// scores, token types, unk/bos/eos (and pad) ids, add_bos/add_eos/add_space_prefix. Tiktoken (Llama 3) tokenizers are refused (LMOE1203).
/// </summary>
public static class GgufTokenizerMetadata
{
    /// <summary>Adds the metadata of <paramref name="modelDirectory"/>'s tokenizer.model.</summary>
    public static void Add(GgufWriter writer, string modelDirectory, LlamaConfig config)
    {
        var path = Path.Combine(modelDirectory, "tokenizer.model");
        if (!File.Exists(path))
        {
            throw new LlamaMoeException(FormatErrorCodes.TokenizerMissing, "the model directory has no tokenizer.model", modelDirectory, advice: "Copy the model's tokenizer.model in, or export without a tokenizer.");
        }

        if (TokenizerLoader.IsTiktokenRankFile(path))
        {
            throw new LlamaMoeException(ExportErrorCodes.GgufTokenizerUnsupported, "tiktoken (Llama 3) tokenizers are not exported to GGUF; only SentencePiece", path,
                advice: "Convert the model with llama.cpp's convert_hf_to_gguf.py for a Llama 3 tokenizer.");
        }

        var model = SentencePieceModelReader.Read(path);
        if (model.Pieces.Count != config.VocabSize)
        {
            throw new LlamaMoeException(ExportErrorCodes.GgufTokenizerUnsupported, $"the tokenizer has {model.Pieces.Count} pieces but vocab_size is {config.VocabSize}", path, "vocab_size",
                "Use the model's own tokenizer.model.");
        }

        writer.AddString("tokenizer.ggml.model", "llama");
        writer.AddArray("tokenizer.ggml.tokens", GgufValueType.String, model.Pieces.ToArray());
        writer.AddArray("tokenizer.ggml.scores", GgufValueType.Float32, model.Scores.ToArray());
        writer.AddArray("tokenizer.ggml.token_type", GgufValueType.Int32, model.Types.ToArray());
        AddId(writer, "tokenizer.ggml.unknown_token_id", model.UnkId);
        AddId(writer, "tokenizer.ggml.bos_token_id", config.BosTokenId ?? model.BosId);
        AddId(writer, "tokenizer.ggml.eos_token_id", config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : model.EosId);
        AddId(writer, "tokenizer.ggml.padding_token_id", config.PadTokenId ?? model.PadId);
        writer.AddBool("tokenizer.ggml.add_bos_token", true);
        writer.AddBool("tokenizer.ggml.add_eos_token", false);
        writer.AddBool("tokenizer.ggml.add_space_prefix", model.AddDummyPrefix);
    }

    private static void AddId(GgufWriter writer, string key, int id)
    {
        if (id >= 0)
        {
            writer.AddUInt32(key, (uint)id);
        }
    }
}
