using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>
/// AdamW (decoupled weight decay, bias-corrected moments; the same element-wise arithmetic as PyTorch's and TorchSharp's
/// single-tensor AdamW) over the flat float32 buffers of <see cref="TrainableParameters"/>: one step is about ten kernels
/// whatever the number of parameter tensors, and nothing is read back to the host. Every trainable tensor is updated each
/// step (a tensor that received no gradient has a zero gradient, as in flat-buffer optimizers), and weight decay applies
/// to the leading <see cref="TrainableParameters.DecayedElementCount"/> elements only.
/// </summary>
public sealed class FlatAdamW : IDisposable
{
    private const string Magic = "LMADAMW1";
    private readonly TrainableParameters parameters;
    private readonly double beta1;
    private readonly double beta2;
    private readonly double epsilon;
    private readonly double weightDecay;
    private readonly Tensor firstMoment;
    private readonly Tensor secondMoment;
    private readonly Tensor denominator;

    /// <summary>Creates zero moments on the buffers' device.</summary>
    public FlatAdamW(TrainableParameters parameters, double beta1, double beta2, double epsilon, double weightDecay)
    {
        this.parameters = parameters;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        firstMoment = zeros_like(parameters.MasterBuffer); // (P)
        secondMoment = zeros_like(parameters.MasterBuffer); // (P)
        denominator = empty_like(parameters.MasterBuffer); // (P) scratch
    }

    /// <summary>Steps taken so far (drives the bias corrections).</summary>
    public long StepCount { get; private set; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> from the master gradients.</summary>
    public void Step(double learningRate)
    {
        using var noGrad = no_grad();
        StepCount++;
        var masters = parameters.MasterBuffer; // (P)
        var gradients = parameters.MasterGradientBuffer; // (P)
        var decayed = parameters.DecayedElementCount;
        if (weightDecay != 0 && decayed > 0)
        {
            using var decayedMasters = masters.narrow(0, 0, decayed); // (P_decay)
            decayedMasters.mul_(1 - (learningRate * weightDecay));
        }

        firstMoment.mul_(beta1).add_(gradients, alpha: 1 - beta1); // m ← β1·m + (1−β1)·g
        secondMoment.mul_(beta2).addcmul_(gradients, gradients, value: 1 - beta2); // v ← β2·v + (1−β2)·g²
        var correction1 = 1 - Math.Pow(beta1, StepCount);
        var correction2 = 1 - Math.Pow(beta2, StepCount);
        denominator.copy_(secondMoment).sqrt_().div_(Math.Sqrt(correction2)).add_(epsilon); // (P) √v̂ + ε
        masters.addcdiv_(firstMoment, denominator, value: -learningRate / correction1); // θ ← θ − lr·m̂/(√v̂+ε)
    }

    /// <summary>Writes the step count and both moments, per parameter name, to <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(Magic);
        writer.Write(StepCount);
        writer.Write(parameters.TrainableNames.Count);
        foreach (var name in parameters.TrainableNames)
        {
            writer.Write(name);
            using var first = View(firstMoment, name);
            using var second = View(secondMoment, name);
            first.Save(writer);
            second.Save(writer);
        }

        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Restores what <see cref="Save"/> wrote; names and shapes must match this model's trainable parameters.</summary>
    /// <exception cref="InvalidDataException">The file is not an optimizer state of this kind.</exception>
    /// <exception cref="LlamaMoeException">LMOE3104 when names or shapes differ.</exception>
    public void Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (reader.ReadString() != Magic)
        {
            throw new InvalidDataException("optimizer.bin is not a LlamaMoe AdamW state");
        }

        var steps = reader.ReadInt64();
        var count = reader.ReadInt32();
        if (count != parameters.TrainableNames.Count)
        {
            throw TrainingErrors.Mismatch(path, "optimizer", $"it holds {count} tensors, {parameters.TrainableNames.Count} parameters train");
        }

        using var noGrad = no_grad();
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            using var first = TensorExtensionMethods.Load(reader);
            using var second = TensorExtensionMethods.Load(reader);
            if (!parameters.TrainableNames.Contains(name))
            {
                throw TrainingErrors.Mismatch(path, name, "no trainable parameter has this name");
            }

            using var firstView = View(firstMoment, name);
            using var secondView = View(secondMoment, name);
            if (!firstView.shape.SequenceEqual(first.shape) || !secondView.shape.SequenceEqual(second.shape))
            {
                throw TrainingErrors.Mismatch(path, name, $"shape [{string.Join(',', first.shape)}] differs from the parameter's [{string.Join(',', firstView.shape)}]");
            }

            firstView.copy_(first);
            secondView.copy_(second);
        }

        StepCount = steps;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        firstMoment.Dispose();
        secondMoment.Dispose();
        denominator.Dispose();
    }

    private Tensor View(Tensor flat, string name)
    {
        var (offset, shape) = parameters.Slot(name);
        return flat.narrow(0, offset, shape.Aggregate(1L, (a, b) => a * b)).view(shape); // parameter shape
    }
}
