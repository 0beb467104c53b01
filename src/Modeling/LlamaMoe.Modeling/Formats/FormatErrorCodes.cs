namespace LlamaMoe.Modeling.Formats;

/// <summary>The stable LMOE1xxx codes raised while reading or writing checkpoint and tokenizer files.</summary>
public static class FormatErrorCodes
{
    /// <summary>Safetensors: the file ends before the data its header declares (or before the 8-byte length).</summary>
    public const string SafetensorsTruncated = "LMOE1101";

    /// <summary>Safetensors: the header length points past the end of the file.</summary>
    public const string SafetensorsHeaderPastEnd = "LMOE1102";

    /// <summary>Safetensors: the header is larger than the 100 MB limit.</summary>
    public const string SafetensorsHeaderTooLarge = "LMOE1103";

    /// <summary>Safetensors: the header is not valid JSON, has a key twice, or an entry is malformed.</summary>
    public const string SafetensorsHeaderMalformed = "LMOE1104";

    /// <summary>Safetensors: a tensor has an unknown dtype.</summary>
    public const string SafetensorsUnknownDtype = "LMOE1105";

    /// <summary>Safetensors: a tensor's shape does not match its byte count.</summary>
    public const string SafetensorsShapeMismatch = "LMOE1106";

    /// <summary>Safetensors: a tensor's offsets are invalid (negative, reversed, or not two integers).</summary>
    public const string SafetensorsOffsetsOutOfRange = "LMOE1107";

    /// <summary>Safetensors: two tensors' byte ranges overlap.</summary>
    public const string SafetensorsOverlappingOffsets = "LMOE1108";

    /// <summary>Sharded checkpoint: a shard path escapes the model directory.</summary>
    public const string ShardPathEscapes = "LMOE1109";

    /// <summary>Sharded checkpoint: the index is malformed, names a missing shard, or disagrees with the shards.</summary>
    public const string ShardIndexInvalid = "LMOE1110";

    /// <summary>A requested tensor is not in the checkpoint, or a tensor name appears twice.</summary>
    public const string TensorNotFound = "LMOE1111";

    /// <summary>A model directory has no weights (no model.safetensors and no index).</summary>
    public const string NoWeights = "LMOE1112";

    /// <summary>A tensor cannot be written (unsupported dtype, empty name).</summary>
    public const string UnwritableTensor = "LMOE1113";

    /// <summary>Safetensors: bytes of the data section belong to no tensor (a gap between tensors, or trailing bytes after the last one).</summary>
    public const string SafetensorsUnexplainedBytes = "LMOE1114";

    /// <summary>A tensor or metadata name is empty or contains control characters.</summary>
    public const string InvalidName = "LMOE1115";

    /// <summary>GGUF: bad magic or unsupported version.</summary>
    public const string GgufBadHeader = "LMOE1120";

    /// <summary>GGUF: a count, length, offset or size is out of bounds or overflows.</summary>
    public const string GgufOutOfBounds = "LMOE1121";

    /// <summary>GGUF: a tensor type other than F32/F16/BF16, or a value type not in the spec.</summary>
    public const string GgufUnsupportedType = "LMOE1122";

    /// <summary>GGUF: an unsupported architecture, or a required metadata key or tensor is missing or malformed.</summary>
    public const string GgufMissingMetadata = "LMOE1123";

    /// <summary>GGUF: the metadata and the tensors disagree (shapes, block count, vocabulary size, token ids, unexplained tensors).</summary>
    public const string GgufInconsistent = "LMOE1124";

    /// <summary>GGUF: tensor data overlap, or bytes of the data section belong to no tensor (beyond alignment padding).</summary>
    public const string GgufUnexplainedBytes = "LMOE1125";

    /// <summary>GGUF: a split (multi-file) GGUF, which is not supported.</summary>
    public const string GgufSplitUnsupported = "LMOE1126";

    /// <summary>llama2.c: bad header or a file size that does not match the header.</summary>
    public const string Llama2cInvalid = "LMOE1130";

    /// <summary>A pickle-based PyTorch checkpoint (.bin/.pt/.pth) was given; refused because unpickling runs code.</summary>
    public const string PickleRefused = "LMOE1140";

    /// <summary>The import source is not a recognised format.</summary>
    public const string UnknownImportFormat = "LMOE1141";

    /// <summary>No supported tokenizer file in the model directory.</summary>
    public const string TokenizerMissing = "LMOE1150";

    /// <summary>A tokenizer file is malformed.</summary>
    public const string TokenizerMalformed = "LMOE1151";
}
