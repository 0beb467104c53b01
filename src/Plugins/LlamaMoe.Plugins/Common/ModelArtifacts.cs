using LlamaMoe.Modeling;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Pipeline;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Common;

/// <summary>Loads and saves the model folders that flow between stages (dense-model and moe-model artifacts).</summary>
internal static class ModelArtifacts
{
    /// <summary>The kinds a model-consuming step accepts.</summary>
    public static readonly string[] ModelKinds = [ArtifactKinds.DenseModel, ArtifactKinds.MoeModel];

    /// <summary>
    /// The torch device of the run (<c>cpu</c> or <c>cuda</c>), reported to the run as the step's device computing in
    /// <paramref name="compute"/> (see <see cref="IStepContext.ReportDevice"/>).
    /// </summary>
    public static Device DeviceOf(IStepContext context, ScalarType compute = ScalarType.Float32)
    {
        TorchRuntime.EnsureLoaded();
        var device = context.Device == DeviceNames.Cuda ? CUDA : CPU;
        context.ReportDevice(DeviceDescription.Of(device, compute));
        return device;
    }

    /// <summary>For steps whose tensor work always runs on the host: reports <c>cpu (N threads), float32</c> and returns the CPU device.</summary>
    public static Device HostDevice(IStepContext context)
    {
        TorchRuntime.EnsureLoaded();
        context.ReportDevice(DeviceDescription.Of(CPU, ScalarType.Float32));
        return CPU;
    }

    /// <summary>The model inputs of a step, in <c>needs</c> order.</summary>
    public static IReadOnlyList<ArtifactHandle> ModelInputs(IStepContext context) =>
        context.Inputs.Where(i => ModelKinds.Contains(i.Kind)).ToList();

    /// <summary>The single model input of a step; LMOE3201 when there is none or several.</summary>
    public static ArtifactHandle SingleModelInput(IStepContext context)
    {
        var models = ModelInputs(context);
        return models.Count == 1
            ? models[0]
            : throw new LlamaMoeException(PluginErrorCodes.ModelInput, $"stage '{context.StageId}' needs exactly one model stage; it has {models.Count}", key: "needs",
                advice: "List one dense-model or moe-model stage under 'needs'.");
    }

    /// <summary>Loads a dense or MoE model folder (any format <see cref="CausalLanguageModelLoader"/> reads) as float32 on <paramref name="device"/>.</summary>
    public static LlamaForCausalLM Load(string directory, Device device) =>
        CausalLanguageModelLoader.Load(directory, device, ScalarType.Float32);

    /// <summary>Saves <paramref name="model"/> into <paramref name="directory"/> with the tokenizer files of <paramref name="companionSource"/>.</summary>
    public static void Save(LlamaForCausalLM model, string directory, string? companionSource) =>
        CausalLanguageModelLoader.Save(model, directory, companionSource);
}
