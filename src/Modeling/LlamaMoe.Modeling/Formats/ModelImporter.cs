using LlamaMoe.Modeling.Formats.Gguf;
using LlamaMoe.Modeling.Formats.Llama2c;
using LlamaMoe.Modeling.Formats.SentencePiece;

namespace LlamaMoe.Modeling.Formats;

/// <summary>
/// Imports a llama2.c <c>.bin</c> or a GGUF file into a Hugging Face model directory (config.json,
/// generation_config.json, model.safetensors, tokenizer.model). Pickle checkpoints are refused (LMOE1140).
/// </summary>
public static class ModelImporter
{
    /// <summary>Imports <paramref name="source"/> into <paramref name="outputDirectory"/>.</summary>
    /// <param name="source">A llama2.c .bin or a .gguf file.</param>
    /// <param name="outputDirectory">The Hugging Face model directory to write.</param>
    /// <param name="tokenizerModel">A SentencePiece tokenizer.model to copy; when null, the GGUF metadata (GGUF) or a single *.model file next to the .bin is used.</param>
    public static ImportResult Import(string source, string outputDirectory, string? tokenizerModel = null)
    {
        if (!File.Exists(source))
        {
            throw new LlamaMoeException(FormatErrorCodes.UnknownImportFormat, "the file to import does not exist", source);
        }

        FileKind.RefuseSpecial(source, "model");
        if (tokenizerModel is not null)
        {
            Data.InputFile.EnsureRegularFile(tokenizerModel, "--tokenizer");
        }

        var format = Detect(source);
        Directory.CreateDirectory(outputDirectory);
        var tokenizerTarget = Path.Combine(outputDirectory, "tokenizer.model");
        if (format == "gguf")
        {
            var file = GgufFile.Read(source);
            using var model = GgufImporter.Read(file);
            model.Save(outputDirectory);
            if (tokenizerModel is not null)
            {
                AtomicFile.Copy(tokenizerModel, tokenizerTarget);
            }
            else
            {
                var bytes = SentencePieceModelWriter.FromGguf(file);
                AtomicFile.Write(tokenizerTarget, s => s.Write(bytes));
            }

            return new ImportResult(format, model.Config, outputDirectory);
        }

        using (var model = Llama2cImporter.Read(source))
        {
            var tokenizer = tokenizerModel ?? FindSentencePieceModel(source);
            model.Save(outputDirectory);
            AtomicFile.Copy(tokenizer, tokenizerTarget);
            return new ImportResult(format, model.Config, outputDirectory);
        }
    }

    /// <summary>Detects the format: <c>gguf</c>, <c>llama2c</c>; throws LMOE1140 for pickle/zip PyTorch files.</summary>
    public static string Detect(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using (var stream = File.OpenRead(path))
        {
            if (stream.Length < 4)
            {
                throw new LlamaMoeException(FormatErrorCodes.UnknownImportFormat, "the file is too short to be a model", path);
            }

            stream.ReadExactly(head);
        }

        if (head.SequenceEqual("GGUF"u8))
        {
            return "gguf";
        }

        var isZip = head[0] == (byte)'P' && head[1] == (byte)'K';
        var isPickle = head[0] == 0x80 && head[1] is >= 2 and <= 5;
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (isZip || isPickle || ext is ".pt" or ".pth" or ".ckpt")
        {
            throw new LlamaMoeException(FormatErrorCodes.PickleRefused, "this is a pickle-based PyTorch checkpoint; loading it would run arbitrary code", path,
                advice: "Convert it to safetensors with a trusted tool, or import the llama2.c .bin or GGUF export instead.");
        }

        if (ext == ".bin")
        {
            return "llama2c";
        }

        throw new LlamaMoeException(FormatErrorCodes.UnknownImportFormat, "unrecognised model format (expected a llama2.c .bin or a .gguf file)", path);
    }

    private static string FindSentencePieceModel(string source)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(source))!;
        var candidates = Directory.GetFiles(folder, "*.model");
        return candidates.Length == 1 ? candidates[0]
            : throw new LlamaMoeException(FormatErrorCodes.TokenizerMissing,
                candidates.Length == 0 ? "no SentencePiece tokenizer (*.model) next to the checkpoint" : "several *.model files next to the checkpoint", source,
                advice: "Pass the tokenizer with --tokenizer <tokenizer.model>.");
    }
}

/// <summary>What an import wrote.</summary>
/// <param name="Format">gguf or llama2c.</param>
/// <param name="Config">The imported architecture.</param>
/// <param name="Directory">The model directory.</param>
public sealed record ImportResult(string Format, Config.LlamaConfig Config, string Directory);
