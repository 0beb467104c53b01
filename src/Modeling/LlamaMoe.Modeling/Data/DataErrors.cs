namespace LlamaMoe.Modeling.Data;

/// <summary>The coded errors raised while reading data files (LMOE30xx).</summary>
public static class DataErrors
{
    /// <summary>LMOE3001: a data file does not exist.</summary>
    public static LlamaMoeException FileNotFound(string path) => new(
        "LMOE3001", "data file not found", path, advice: "Check the path of the data source (relative paths are resolved against the working directory).");

    /// <summary>LMOE3002: a JSON line cannot be parsed.</summary>
    public static LlamaMoeException MalformedJson(string path, int line, string detail) => new(
        "LMOE3002", "malformed JSON line: " + detail, path, advice: "Each line must hold one JSON object (JSON lines format).", line: line);

    /// <summary>LMOE3003: a record lacks a required field or a field has the wrong type.</summary>
    public static LlamaMoeException BadField(string path, int line, string key, string detail) => new(
        "LMOE3003", detail, path, key, "Fix or remove the record, or choose the data format that matches the file.", line);

    /// <summary>LMOE3004: a CSV row cannot be read.</summary>
    public static LlamaMoeException BadCsvRow(string path, int line, string detail) => new(
        "LMOE3004", "malformed CSV row: " + detail, path, advice: "MMLU rows are: question, four choices, answer (A-D or 0-3).", line: line);

    /// <summary>LMOE3005: a data source yields no example.</summary>
    public static LlamaMoeException Empty(string path) => new(
        "LMOE3005", "the data source holds no example", path, advice: "Point the source at a non-empty file or remove it from the mix.");

    /// <summary>LMOE3006: invalid mixture or packing options.</summary>
    public static LlamaMoeException BadOption(string key, string detail) => new(
        "LMOE3006", detail, key: key, advice: "Fix the data options of the stage.");
}
