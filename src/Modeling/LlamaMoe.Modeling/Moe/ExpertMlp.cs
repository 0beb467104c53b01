using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Moe;

/// <summary>
/// One SwiGLU expert in Mixtral naming: <c>w2( SiLU(w1 x) ⊙ w3 x )</c>, with w1 = gate_proj rows (m, H),
/// w3 = up_proj rows (m, H) and w2 = down_proj columns (H, m). Also used for the residual (shared) expert.
/// </summary>
public sealed class ExpertMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear w1;
    private readonly Linear w2;
    private readonly Linear w3;

    /// <summary>Creates an expert of <paramref name="intermediateSize"/> neurons on <paramref name="device"/>.</summary>
    /// <param name="hiddenSize">Model width H.</param>
    /// <param name="intermediateSize">Neurons m of this expert.</param>
    /// <param name="inputBias">Bias on w1 and w3.</param>
    /// <param name="outputBias">Bias on w2.</param>
    /// <param name="device">Device of the parameters, or null for the default device.</param>
    /// <param name="dtype">Element type of the parameters, or null for the default type.</param>
    public ExpertMlp(int hiddenSize, int intermediateSize, bool inputBias = false, bool outputBias = false, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ExpertMlp))
    {
        IntermediateSize = intermediateSize;
        w1 = nn.Linear(hiddenSize, intermediateSize, inputBias, device, dtype);
        w2 = nn.Linear(intermediateSize, hiddenSize, outputBias, device, dtype);
        w3 = nn.Linear(hiddenSize, intermediateSize, inputBias, device, dtype);
        register_module("w1", w1);
        register_module("w2", w2);
        register_module("w3", w3);
    }

    /// <summary>Neurons m of this expert.</summary>
    public int IntermediateSize { get; }

    /// <summary>gate_proj rows (m, H).</summary>
    public Linear W1 => w1;

    /// <summary>down_proj columns (H, m).</summary>
    public Linear W2 => w2;

    /// <summary>up_proj rows (m, H).</summary>
    public Linear W3 => w3;

    /// <summary>Applies the expert to <c>(N, H)</c> (or any <c>(..., H)</c>) inputs and returns <c>(..., H)</c>.</summary>
    public override Tensor forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// Applies the expert to <c>(N, H)</c> rows and multiplies row n of the result by <c>rowWeights[n]</c>. Without a
    /// w2 bias the weights are applied to the m-wide hidden activation (w2 is linear), which is cheaper than scaling
    /// the H-wide output.
    /// </summary>
    /// <param name="input">Rows <c>(N, H)</c>.</param>
    /// <param name="rowWeights">Per-row factors <c>(N)</c> in the activation type, or null for none.</param>
    public Tensor Forward(Tensor input, Tensor? rowWeights)
    {
        using var scope = NewDisposeScope();
        Tensor hidden;
        if (w1.bias is null && w3.bias is null)
        {
            // One matmul for gate and up: (..., H) x (H, 2m) -> (..., 2m), then split into two (..., m).
            var fused = nn.functional.linear(input, cat([w1.weight!, w3.weight!], 0));
            var parts = fused.chunk(2, -1);
            hidden = nn.functional.silu(parts[0]).mul(parts[1]); // (..., m)
        }
        else
        {
            hidden = nn.functional.silu(w1.forward(input)).mul(w3.forward(input)); // (..., m)
        }

        if (rowWeights is null)
        {
            return w2.forward(hidden).MoveToOuterDisposeScope(); // (..., H)
        }

        var weights = rowWeights.unsqueeze(-1); // (N, 1)
        return (w2.bias is null
            ? w2.forward(hidden.mul(weights)) // (N, H)
            : w2.forward(hidden).mul(weights)).MoveToOuterDisposeScope(); // (N, H)
    }
}
