using System.Text.RegularExpressions;
using LlamaMoe.Pipeline;

namespace LlamaMoe.Plugins.Training;

/// <summary>
/// The <c>distill:</c> block of a <c>train</c> stage: mix the LM loss with the KL divergence from a teacher's next-token
/// distribution, <c>(1 − weight)·LM + weight·T²·KL(teacher ‖ student)</c> over the supervised positions.
/// </summary>
public sealed partial class DistillOptions
{
    /// <summary>The teacher: a stage id listed in the stage's <c>needs</c>, or a model folder (a path with a '/').</summary>
    [Option("The teacher model: the id of a dense-model or moe-model stage listed in 'needs', or a model folder (a path containing '/').", Required = true)]
    public string Teacher { get; set; } = string.Empty;

    /// <summary>Weight of the KL term.</summary>
    [Option("Weight w of the KL term: loss = (1 - w)·LM + w·T²·KL.", Minimum = 0, Maximum = 1)]
    public double Weight { get; set; } = 0.5;

    /// <summary>Softmax temperature of both distributions.</summary>
    [Option("Softmax temperature T of teacher and student.", Minimum = 0.05, Maximum = 100)]
    public double Temperature { get; set; } = 1.0;

    /// <summary>Positions per chunk of the KL computation.</summary>
    [Option("Supervised positions per chunk of the KL computation (bounds its float32 temporaries to chunk × vocabulary).", Minimum = 1, Maximum = 1048576)]
    public int Chunk { get; set; } = 1024;

    /// <summary>Whether <see cref="Teacher"/> names a stage (a plain id) rather than a folder.</summary>
    public bool TeacherIsStage => StageIdPattern().IsMatch(Teacher);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex StageIdPattern();
}
