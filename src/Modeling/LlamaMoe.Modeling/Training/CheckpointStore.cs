using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// Resume checkpoints in <c>&lt;output&gt;/checkpoints/step-NNNNNNNN/</c>: <c>model.bin</c> (float32 master weights by
/// name), <c>optimizer.bin</c> (AdamW state: step counts, exp_avg, exp_avg_sq, per parameter, TorchSharp format),
/// <c>state.json</c> (<see cref="TrainerState"/>) and a <c>COMPLETE</c> marker. A checkpoint is written into a
/// temporary folder and renamed into place; older checkpoints are deleted only after that, so a crash or a
/// non-finite loss never destroys the last good one.
/// </summary>
public sealed class CheckpointStore
{
    private const string CompleteMarker = "COMPLETE";
    private static readonly string Magic = "LMCK0001";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Creates the store under <paramref name="outputDirectory"/>.</summary>
    public CheckpointStore(string outputDirectory, int keep)
    {
        Root = Path.Combine(outputDirectory, "checkpoints");
        Keep = keep;
    }

    /// <summary>The checkpoints folder.</summary>
    public string Root { get; }

    /// <summary>How many complete checkpoints are kept.</summary>
    public int Keep { get; }

    /// <summary>The newest complete checkpoint folder, or null.</summary>
    public string? Latest() => Complete().LastOrDefault();

    /// <summary>Writes a checkpoint atomically, then removes older ones beyond <see cref="Keep"/>; returns its folder.</summary>
    public string Save(TrainerState state, TrainableParameters parameters, FlatAdamW optimizer)
    {
        Directory.CreateDirectory(Root);
        var final = Path.Combine(Root, "step-" + state.Step.ToString("D8", CultureInfo.InvariantCulture));
        var temp = Path.Combine(Root, ".tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        WriteModel(Path.Combine(temp, "model.bin"), parameters);
        optimizer.Save(Path.Combine(temp, "optimizer.bin"));
        File.WriteAllText(Path.Combine(temp, "state.json"), JsonSerializer.Serialize(state, Json));
        File.WriteAllText(Path.Combine(temp, CompleteMarker), state.Step.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }

        Directory.Move(temp, final);
        foreach (var old in Complete().SkipLast(Keep))
        {
            Directory.Delete(old, recursive: true);
        }

        foreach (var stale in Directory.EnumerateDirectories(Root, ".tmp-*"))
        {
            TryDelete(stale);
        }

        return final;
    }

    /// <summary>Loads a checkpoint into the masters and the optimizer; returns its state. Throws LMOE3103/LMOE3104.</summary>
    public static TrainerState Load(string folder, TrainableParameters parameters, FlatAdamW optimizer)
    {
        if (!File.Exists(Path.Combine(folder, CompleteMarker)))
        {
            throw TrainingErrors.BadCheckpoint(folder, "the checkpoint is incomplete (no COMPLETE marker)");
        }

        TrainerState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(folder, "state.json")))
                ?? throw TrainingErrors.BadCheckpoint(folder, "state.json is empty");
            ReadModel(Path.Combine(folder, "model.bin"), parameters);
            optimizer.Load(Path.Combine(folder, "optimizer.bin"));
        }
        catch (Exception ex) when (ex is IOException or JsonException or InvalidDataException or ArgumentException or EndOfStreamException)
        {
            throw TrainingErrors.BadCheckpoint(folder, ex.Message, ex);
        }

        parameters.MastersToWorking();
        return state;
    }

    private static void WriteModel(string path, TrainableParameters parameters)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(Magic);
        writer.Write(parameters.Names.Count);
        foreach (var name in parameters.Names)
        {
            writer.Write(name);
            parameters.Master(name).detach().Save(writer);
        }

        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    private static void ReadModel(string path, TrainableParameters parameters)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (reader.ReadString() != Magic)
        {
            throw new InvalidDataException("model.bin is not a LlamaMoe training checkpoint");
        }

        var count = reader.ReadInt32();
        if (count != parameters.Names.Count)
        {
            throw TrainingErrors.Mismatch(path, "parameters", $"it holds {count} tensors, the model has {parameters.Names.Count}");
        }

        using var noGrad = no_grad();
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            using var loaded = TensorExtensionMethods.Load(reader);
            if (!parameters.Names.Contains(name))
            {
                throw TrainingErrors.Mismatch(path, name, "the model has no parameter of this name");
            }

            var master = parameters.Master(name);
            if (!master.shape.SequenceEqual(loaded.shape))
            {
                throw TrainingErrors.Mismatch(path, name, $"shape [{string.Join(',', loaded.shape)}] differs from the model's [{string.Join(',', master.shape)}]");
            }

            master.copy_(loaded);
        }
    }

    private IEnumerable<string> Complete() =>
        Directory.Exists(Root)
            ? Directory.EnumerateDirectories(Root, "step-*")
                .Where(d => File.Exists(Path.Combine(d, CompleteMarker)))
                .OrderBy(d => d, StringComparer.Ordinal)
            : [];

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Another writer's temporary folder; left for the next save.
        }
    }
}
