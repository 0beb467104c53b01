using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Loading;
using LlamaMoe.Pipeline;
using LlamaMoe.Plugins.Common;
using static TorchSharp.torch;

namespace LlamaMoe.Plugins.Training;

/// <summary>Finds and loads the teacher of a <c>train</c> stage's <c>distill:</c> block.</summary>
internal static class DistillTeacher
{
    /// <summary>
    /// The teacher's folder and, when it is a stage, its id; null without distillation. LMOE3310 when a stage id is not
    /// among the needed model stages or a folder does not exist.
    /// </summary>
    public static (string? StageId, string Directory)? Resolve(IStepContext context, DistillOptions? distill)
    {
        if (distill is null)
        {
            return null;
        }

        if (distill.TeacherIsStage)
        {
            var input = ModelArtifacts.ModelInputs(context).FirstOrDefault(i => i.StageId == distill.Teacher)
                ?? throw new LlamaMoeException(PluginErrorCodes.DistillTeacher,
                    $"stage '{context.StageId}': the distillation teacher '{distill.Teacher}' is not one of its needed model stages ({string.Join(", ", ModelArtifacts.ModelInputs(context).Select(m => m.StageId))})",
                    key: "distill.teacher", advice: $"Add '{distill.Teacher}' (a dense-model or moe-model stage) to 'needs'.");
            return (input.StageId, input.Directory);
        }

        var folder = Path.GetFullPath(distill.Teacher, context.PipelineDirectory);
        return Directory.Exists(folder)
            ? (null, folder)
            : throw new LlamaMoeException(PluginErrorCodes.DistillTeacher, $"stage '{context.StageId}': the distillation teacher folder '{folder}' does not exist",
                key: "distill.teacher", advice: "Give a model folder (relative to the pipeline file) or the id of a needed model stage.");
    }

    /// <summary>The model to train: the single needed model stage other than the teacher (LMOE3301 when there is none or several).</summary>
    public static ArtifactHandle StudentInput(IStepContext context, string teacherStage)
    {
        var students = ModelArtifacts.ModelInputs(context).Where(i => i.StageId != teacherStage).ToList();
        return students.Count == 1
            ? students[0]
            : throw new LlamaMoeException(PluginErrorCodes.ModelInput,
                $"stage '{context.StageId}' needs exactly one model stage to train besides the teacher '{teacherStage}'; it has {students.Count}", key: "needs",
                advice: "List the model to train and the teacher under 'needs'.");
    }

    /// <summary>Loads the teacher on <paramref name="device"/> in the training's compute dtype (bfloat16 when training in bfloat16), in eval mode.</summary>
    public static LlamaForCausalLM Load(IStepContext context, string directory, Device device, ScalarType compute)
    {
        context.Log.Info($"distilling from the teacher in {directory} ({(compute == ScalarType.BFloat16 ? "bfloat16" : "float32")})");
        var teacher = CausalLanguageModelLoader.Load(directory, device, compute);
        teacher.eval();
        foreach (var parameter in teacher.parameters())
        {
            parameter.requires_grad = false;
        }

        return teacher;
    }
}
