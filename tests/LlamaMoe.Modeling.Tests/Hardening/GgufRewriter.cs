using System.Text;
using LlamaMoe.Modeling.Formats.Gguf;

namespace LlamaMoe.Modeling.Tests.Hardening;

/// <summary>Rewrites a parsed GGUF file with edited metadata or tensor descriptors, keeping its data section byte for byte.</summary>
internal static class GgufRewriter
{
    public sealed record TensorEntry(string Name, long[] Dims, uint Type, long RelativeOffset);

    public static byte[] Rewrite(string path, Action<List<KeyValuePair<string, object>>>? editMetadata = null, Action<List<TensorEntry>>? editTensors = null)
    {
        var file = GgufFile.Read(path);
        var original = File.ReadAllBytes(path);
        var dataStart = file.Tensors.Min(t => t.Offset);
        var metadata = file.Metadata.ToList();
        var tensors = file.Tensors.Select(t => new TensorEntry(t.Name, t.Dims.ToArray(), t.Type, t.Offset - dataStart)).ToList();
        editMetadata?.Invoke(metadata);
        editTensors?.Invoke(tensors);
        using var s = new MemoryStream();
        var w = new BinaryWriter(s, Encoding.UTF8);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            w.Write(TypeOf(value));
            WriteValue(w, value);
        }

        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims)
            {
                w.Write((ulong)d);
            }

            w.Write(t.Type);
            w.Write((ulong)t.RelativeOffset);
        }

        while (s.Position % 32 != 0)
        {
            w.Write((byte)0);
        }

        w.Write(original, (int)dataStart, original.Length - (int)dataStart);
        w.Flush();
        return s.ToArray();
    }

    private static uint TypeOf(object value) => value switch
    {
        byte => 0, sbyte => 1, ushort => 2, short => 3, uint => 4, int => 5, float => 6, bool => 7, string => 8, object[] => 9, ulong => 10, long => 11, double => 12,
        _ => throw new ArgumentException($"no GGUF type for {value.GetType()}"),
    };

    private static void WriteValue(BinaryWriter w, object value)
    {
        switch (value)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write(v ? (byte)1 : (byte)0); break;
            case string v: WriteString(w, v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            case object[] items:
                w.Write(items.Length == 0 ? 0u : TypeOf(items[0]));
                w.Write((ulong)items.Length);
                foreach (var item in items)
                {
                    WriteValue(w, item);
                }

                break;
        }
    }

    private static void WriteString(BinaryWriter w, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
