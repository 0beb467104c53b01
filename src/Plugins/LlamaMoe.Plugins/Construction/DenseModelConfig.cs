using System.Text.Json.Nodes;
using LlamaMoe.Modeling.Config;
using LlamaMoe.Modeling.Formats;

namespace LlamaMoe.Plugins.Construction;

/// <summary>Reads the config of a dense model directory for the construction steps.</summary>
internal static class DenseModelConfig
{
    /// <summary>True when config.json parses as JSON with <c>model_type</c> llama (or none).</summary>
    public static bool IsDenseLlama(string modelDirectory)
    {
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(Path.Combine(modelDirectory, ModelDirectory.ConfigFileName)), documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject;
            var type = root?["model_type"]?.GetValue<string>();
            return root is not null && (type is null || type == "llama");
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Reads and validates config.json of a dense LLaMA directory (coded errors from the config reader).</summary>
    public static LlamaConfig Read(string modelDirectory) =>
        LlamaConfigJson.Read(Path.Combine(modelDirectory, ModelDirectory.ConfigFileName));

    /// <summary>The dense model directory of a stage: its dense-model input, or the given path option.</summary>
    public static string Resolve(Pipeline.IStepContext context, string? modelOption)
    {
        var models = context.InputsOfKind(Pipeline.ArtifactKinds.DenseModel);
        return models.Count > 0 ? models[0].Directory
            : modelOption ?? throw new LlamaMoeException(LlamaMoe.Pipeline.ContractErrorCodes.NoModel, $"stage '{context.StageId}' has no dense model",
                key: "model", advice: "Add a dense-model stage to 'needs' or set 'with: { model: PATH }'.");
    }
}
