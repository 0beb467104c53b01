namespace LlamaMoe.Pipeline;

/// <summary>
/// The base of every step's options class. Options are plain classes with settable public properties;
/// each property <c>PascalCase</c> maps to the YAML key <c>kebab-case</c> under <c>with:</c>.
/// Supported property types: string, bool, int, long, float, double, enums (kebab-case names), nullable forms,
/// lists and arrays of those, nested option classes (YAML mappings), and <c>Dictionary&lt;string, string&gt;</c>.
/// Decorate properties with <see cref="OptionAttribute"/> for descriptions, required keys, ranges and paths.
/// </summary>
public abstract class StepOptions
{
    /// <summary>Cross-option checks beyond types, required keys and ranges. Return one problem per bad key.</summary>
    public virtual IEnumerable<OptionProblem> Validate() => [];

    /// <summary>
    /// Checks of options that name other stages against the stage's <c>needs</c> (for example a teacher stage). Runs at
    /// validation time after <see cref="Validate"/>; a problem's <see cref="OptionProblem.Code"/> replaces the generic code.
    /// </summary>
    /// <param name="needs">The stage ids this stage needs.</param>
    public virtual IEnumerable<OptionProblem> ValidateNeeds(IReadOnlySet<string> needs) => [];
}
