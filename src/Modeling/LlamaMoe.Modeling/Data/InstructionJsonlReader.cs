using System.Text.Json;

namespace LlamaMoe.Modeling.Data;

/// <summary>
/// Reads instruction JSON lines as single-turn conversations. Alpaca style <c>instruction</c>, <c>input</c>, <c>output</c>
/// gives one example; self-instruct style <c>instruction</c> with <c>instances</c> (each <c>input</c>/<c>output</c>)
/// gives one example per instance. The user turn is the instruction, followed by a blank line and the input when
/// the input is not empty.
/// </summary>
public static class InstructionJsonlReader
{
    /// <summary>Reads every example of the file.</summary>
    public static IReadOnlyList<DataExample> Read(string path)
    {
        var groups = JsonLinesFile.Read(path, (root, line) => Parse(root, path, line));
        return groups.SelectMany(g => g).ToList();
    }

    /// <summary>Builds the user turn from an instruction and an optional input.</summary>
    public static string UserTurn(string instruction, string? input) =>
        string.IsNullOrWhiteSpace(input) ? instruction : instruction + "\n\n" + input;

    private static List<DataExample> Parse(JsonElement root, string path, int line)
    {
        var instruction = JsonLinesFile.RequiredString(root, "instruction", path, line);
        if (root.TryGetProperty("instances", out var instances))
        {
            if (instances.ValueKind != JsonValueKind.Array)
            {
                throw DataErrors.BadField(path, line, "instances", "'instances' must be an array of {input, output}");
            }

            var examples = new List<DataExample>();
            foreach (var instance in instances.EnumerateArray())
            {
                examples.Add(Make(instruction, JsonLinesFile.OptionalString(instance, "input", path, line),
                    JsonLinesFile.RequiredString(instance, "output", path, line), path, line));
            }

            return examples;
        }

        return [Make(instruction, JsonLinesFile.OptionalString(root, "input", path, line), JsonLinesFile.RequiredString(root, "output", path, line), path, line)];
    }

    private static ChatExample Make(string instruction, string? input, string output, string path, int line) =>
        new([new ChatMessage("user", UserTurn(instruction, input)), new ChatMessage("assistant", output)], path, line);
}
