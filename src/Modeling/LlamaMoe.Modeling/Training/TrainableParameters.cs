using LlamaMoe.Modeling.Llama;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// The model's parameters seen by the trainer, laid out flat so that gradient clearing, clipping, the optimizer step and
/// the master→working copy are a handful of kernels instead of a dozen per parameter tensor:
/// <list type="bullet">
/// <item>the trainable float32 masters live in one flat buffer (weight-decayed tensors first, then the rest) and their
/// gradients in another;</item>
/// <item>in float32 mode the model's trainable parameters are re-pointed (<c>set_</c>) at their slices of the master
/// buffer and their gradients pre-assigned as slices of the gradient buffer, which autograd accumulates into in place;</item>
/// <item>in bfloat16 mode the model is cast to bfloat16 and its trainable parameters become slices of a flat bfloat16
/// working buffer (with a flat bfloat16 gradient buffer); one cast copies gradients to the masters and one copies the
/// updated masters back.</item>
/// </list>
/// Frozen parameters stay outside the buffers (with a float32 copy in bfloat16 mode, for checkpoints).
/// </summary>
public sealed class TrainableParameters : IDisposable
{
    private readonly ICausalLanguageModel model;
    private readonly Dictionary<string, Tensor> masterViews = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> frozenMasters = new(StringComparer.Ordinal);
    private readonly List<(Parameter Working, Tensor Master)> frozenWorking = [];
    private readonly Dictionary<string, (long Offset, long[] Shape)> layout = new(StringComparer.Ordinal);
    private readonly Tensor masterFlat;
    private readonly Tensor masterGradFlat;
    private readonly Tensor? workingFlat;
    private readonly Tensor? workingGradFlat;
    private bool released;

    /// <summary>Freezes what does not train and sets up the flat buffers on the model's device.</summary>
    public TrainableParameters(ICausalLanguageModel model, ParameterGroup trainable, ComputePrecision precision)
    {
        this.model = model;
        Precision = precision;
        var named = model.Module.named_parameters().ToList();
        Names = named.Select(p => p.name).ToList();
        var selected = named.Where(p => trainable.HasFlag(ParameterClassifier.Classify(p.name))).ToList();
        if (selected.Count == 0)
        {
            throw TrainingErrors.NothingToTrain($"groups {trainable} select none of the {named.Count} parameters");
        }

        // Decayed tensors first, so each optimizer group is one contiguous range of the flat buffers.
        var ordered = selected.Where(p => ParameterClassifier.DecaysWeight(p.name, p.parameter.dim()))
            .Concat(selected.Where(p => !ParameterClassifier.DecaysWeight(p.name, p.parameter.dim())))
            .ToList();
        TrainableNames = ordered.Select(p => p.name).ToList();
        DecayedElementCount = ordered.TakeWhile(p => ParameterClassifier.DecaysWeight(p.name, p.parameter.dim())).Sum(p => p.parameter.numel());
        var total = ordered.Sum(p => p.parameter.numel());
        var device = model.Device;
        var trainSet = TrainableNames.ToHashSet(StringComparer.Ordinal);
        masterFlat = empty(total, dtype: ScalarType.Float32, device: device); // (P)
        masterGradFlat = zeros(total, dtype: ScalarType.Float32, device: device); // (P)
        using (no_grad())
        {
            var offset = 0L;
            foreach (var (name, parameter) in ordered)
            {
                layout[name] = (offset, parameter.shape);
                var view = masterFlat.narrow(0, offset, parameter.numel()).view(parameter.shape); // parameter shape
                view.copy_(parameter.detach());
                masterViews[name] = view;
                offset += parameter.numel();
            }

            foreach (var (name, parameter) in named.Where(p => !trainSet.Contains(p.name)))
            {
                parameter.requires_grad = false;
                frozenMasters[name] = precision == ComputePrecision.BFloat16 ? parameter.detach().to_type(ScalarType.Float32).clone() : parameter;
            }
        }

        if (precision == ComputePrecision.BFloat16)
        {
            model.Module.to(ScalarType.BFloat16);
            workingFlat = masterFlat.to_type(ScalarType.BFloat16); // (P)
            workingGradFlat = zeros(total, dtype: ScalarType.BFloat16, device: device); // (P)
            Attach(workingFlat, workingGradFlat);
            frozenWorking.AddRange(model.Module.named_parameters()
                .Where(p => frozenMasters.ContainsKey(p.name))
                .Select(p => (p.parameter, frozenMasters[p.name])));
        }
        else
        {
            Attach(masterFlat, masterGradFlat);
        }
    }

    /// <summary>The compute precision.</summary>
    public ComputePrecision Precision { get; }

    /// <summary>Every parameter name, in module order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The names of the parameters that train, in flat-buffer order (weight-decayed ones first).</summary>
    public IReadOnlyList<string> TrainableNames { get; }

    /// <summary>Elements at the start of the flat buffers that take weight decay.</summary>
    public long DecayedElementCount { get; }

    /// <summary>Number of elements of the trainable parameters.</summary>
    public long TrainableElementCount => masterFlat.numel();

    /// <summary>The flat float32 masters <c>(P)</c> the optimizer updates.</summary>
    public Tensor MasterBuffer => masterFlat;

    /// <summary>The flat float32 master gradients <c>(P)</c>, valid after <see cref="GradientsToMasters"/>.</summary>
    public Tensor MasterGradientBuffer => masterGradFlat;

    /// <summary>The float32 master of a parameter (a view into the flat buffer for trainable ones).</summary>
    public Tensor Master(string name) => masterViews.TryGetValue(name, out var view) ? view : frozenMasters[name];

    /// <summary>The offset and shape of a trainable parameter in the flat buffers.</summary>
    public (long Offset, long[] Shape) Slot(string name) => layout[name];

    /// <summary>Clears the gradients (one kernel per flat buffer); autograd then accumulates into them in place.</summary>
    public void ZeroGradients()
    {
        masterGradFlat.zero_();
        workingGradFlat?.zero_();
    }

    /// <summary>In bfloat16 mode, casts the flat working gradients into the float32 master gradients (one kernel).</summary>
    public void GradientsToMasters()
    {
        if (workingGradFlat is not null)
        {
            masterGradFlat.copy_(workingGradFlat);
        }
    }

    /// <summary>In bfloat16 mode, copies the updated masters into the working copy (one kernel for the trainable ones).</summary>
    public void MastersToWorking()
    {
        if (workingFlat is null)
        {
            return;
        }

        using var noGrad = no_grad();
        workingFlat.copy_(masterFlat);
        foreach (var (working, master) in frozenWorking)
        {
            working.copy_(master);
        }
    }

    /// <summary>
    /// Gives the model back plain float32 parameters holding exactly the master weights, detached from the flat buffers
    /// and without gradients. Called once when training ends.
    /// </summary>
    public void RestoreFloat32Model()
    {
        if (released)
        {
            return;
        }

        released = true;
        using var noGrad = no_grad();
        if (Precision == ComputePrecision.BFloat16)
        {
            model.Module.to(ScalarType.Float32);
        }

        foreach (var (name, parameter) in model.Module.named_parameters())
        {
            parameter.grad = null;
            if (masterViews.TryGetValue(name, out var master))
            {
                parameter.set_(master.clone());
            }
            else if (Precision == ComputePrecision.BFloat16)
            {
                parameter.copy_(frozenMasters[name]);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var view in masterViews.Values)
        {
            view.Dispose();
        }

        if (Precision == ComputePrecision.BFloat16)
        {
            foreach (var master in frozenMasters.Values)
            {
                master.Dispose();
            }
        }

        masterFlat.Dispose();
        masterGradFlat.Dispose();
        workingFlat?.Dispose();
        workingGradFlat?.Dispose();
    }

    /// <summary>Re-points each trainable parameter at its slice of <paramref name="values"/> and its gradient at its slice of <paramref name="gradients"/>.</summary>
    private void Attach(Tensor values, Tensor gradients)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.Module.named_parameters())
        {
            if (!layout.TryGetValue(name, out var slot))
            {
                continue;
            }

            parameter.set_(values.narrow(0, slot.Offset, parameter.numel()).view(slot.Shape));
            parameter.requires_grad = true;
            parameter.grad = gradients.narrow(0, slot.Offset, parameter.numel()).view(slot.Shape);
        }
    }
}
