using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// The model's parameters seen by the trainer: which train, their float32 master copies and the working copies used
/// by forward/backward. In float32 mode the master is the model's own parameter; in bfloat16 mode the model is cast
/// to bfloat16 and every parameter gets a separate float32 master (see <see cref="ComputePrecision.BFloat16"/>).
/// </summary>
public sealed class TrainableParameters : IDisposable
{
    private readonly ICausalLanguageModel model;
    private readonly Dictionary<string, Parameter> masters = new(StringComparer.Ordinal);
    private Dictionary<string, Parameter> working;

    /// <summary>Freezes what does not train and sets up the master copies.</summary>
    public TrainableParameters(ICausalLanguageModel model, ParameterGroup trainable, ComputePrecision precision)
    {
        this.model = model;
        Precision = precision;
        var named = model.Module.named_parameters().ToList();
        Names = named.Select(p => p.name).ToList();
        TrainableNames = named.Where(p => trainable.HasFlag(ParameterClassifier.Classify(p.name))).Select(p => p.name).ToList();
        var trainSet = TrainableNames.ToHashSet(StringComparer.Ordinal);
        if (trainSet.Count == 0)
        {
            throw TrainingErrors.NothingToTrain($"groups {trainable} select none of the {named.Count} parameters");
        }

        foreach (var (name, parameter) in named)
        {
            parameter.requires_grad = trainSet.Contains(name);
            masters[name] = precision == ComputePrecision.Float32
                ? parameter
                : new Parameter(parameter.detach().to_type(ScalarType.Float32).clone(), requires_grad: trainSet.Contains(name));
        }

        if (precision == ComputePrecision.BFloat16)
        {
            model.Module.to(ScalarType.BFloat16);
        }

        working = model.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
    }

    /// <summary>The compute precision.</summary>
    public ComputePrecision Precision { get; }

    /// <summary>Every parameter name, in module order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The names of the parameters that train, in module order.</summary>
    public IReadOnlyList<string> TrainableNames { get; }

    /// <summary>The float32 master of a parameter.</summary>
    public Parameter Master(string name) => masters[name];

    /// <summary>The float32 masters of the trainable parameters (what the optimizer updates).</summary>
    public IReadOnlyList<Parameter> TrainableMasters => TrainableNames.Select(n => masters[n]).ToList();

    /// <summary>Number of elements of the trainable parameters.</summary>
    public long TrainableElementCount => TrainableNames.Sum(n => masters[n].numel());

    /// <summary>Clears the gradients of working and master copies.</summary>
    public void ZeroGradients()
    {
        foreach (var name in TrainableNames)
        {
            working[name].grad = null;
            masters[name].grad = null;
        }
    }

    /// <summary>In bfloat16 mode, casts the working gradients to float32 into the masters' gradients.</summary>
    public void GradientsToMasters()
    {
        if (Precision == ComputePrecision.Float32)
        {
            return;
        }

        foreach (var name in TrainableNames)
        {
            using var grad = working[name].grad;
            masters[name].grad = grad?.to_type(ScalarType.Float32);
        }
    }

    /// <summary>In bfloat16 mode, copies the updated masters into the working copy.</summary>
    public void MastersToWorking()
    {
        if (Precision == ComputePrecision.Float32)
        {
            return;
        }

        using var noGrad = no_grad();
        foreach (var name in Names)
        {
            working[name].copy_(masters[name]);
        }
    }

    /// <summary>Returns the model to float32 holding exactly the master weights (after training in bfloat16).</summary>
    public void RestoreFloat32Model()
    {
        if (Precision == ComputePrecision.Float32)
        {
            return;
        }

        model.Module.to(ScalarType.Float32);
        working = model.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var name in Names)
        {
            working[name].copy_(masters[name]);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Precision == ComputePrecision.BFloat16)
        {
            foreach (var master in masters.Values)
            {
                master.Dispose();
            }
        }
    }
}
