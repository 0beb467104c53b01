using System.Reflection;
using LlamaMoe.Modeling.Llama;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Moe;

/// <summary>
/// Mixture-of-Experts MLP block with Mixtral-compatible parameter names: <c>gate.*</c> (router),
/// <c>experts.{j}.w1/w3/w2.weight</c> (routed SwiGLU experts, sizes may differ) and, when configured, an ungated
/// residual expert <c>mlp_residual.w1/w3/w2.weight</c> (v2 stores it beside the block, as
/// <c>model.layers.{i}.mlp_residual.*</c>; a checkpoint writer moves the keys one level up).
/// Output: <c>Σ_selected w_e · scale · Expert_e(x) + Residual(x)</c>, computed by a dropless dispatch that sorts the
/// token slots by expert and runs the experts as grouped batched matmuls (equal sizes, no biases) or once each on
/// their contiguous slices (see <see cref="DispatchMode"/>).
/// </summary>
public sealed class SparseMoeBlock : FeedForwardBlock
{
    private readonly MoeRouter gate;
    private readonly ModuleList<ExpertMlp> experts;
    private readonly ExpertMlp[] expertArray;
    private readonly ExpertMlp? residual;
    private readonly bool groupable;

    /// <summary>Creates the block with freshly initialised weights on <paramref name="device"/>.</summary>
    /// <exception cref="LlamaMoeException">LMOE2101 when the options are out of range.</exception>
    public SparseMoeBlock(SparseMoeBlockOptions options, Device? device = null, ScalarType? dtype = null)
        : base(nameof(SparseMoeBlock))
    {
        options.Validate();
        Options = options;
        var inputBias = options.MlpBias;
        var outputBias = options.MlpBias || options.OutputBias;
        gate = new MoeRouter(options.HiddenSize, options.ExpertCount, options.Router, options.NoisyGate, options.NoiseEpsilon, device, dtype);
        experts = new ModuleList<ExpertMlp>(options.ExpertSizes
            .Select(size => new ExpertMlp(options.HiddenSize, size, inputBias, outputBias, device, dtype))
            .ToArray());
        expertArray = experts.ToArray();
        groupable = GroupedExpertDispatch.Supports(expertArray);
        register_module("gate", gate);
        register_module("experts", experts);
        if (options.ResidualSize is { } residualSize)
        {
            residual = new ExpertMlp(options.HiddenSize, residualSize, inputBias, outputBias, device, dtype);
            register_module("mlp_residual", residual);
        }
    }

    /// <summary>Parts are registered explicitly under their checkpoint names; no reflection-based registration (which would add camel-case duplicates).</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The block's configuration.</summary>
    public SparseMoeBlockOptions Options { get; }

    /// <inheritdoc />
    public override string StateDictName => "block_sparse_moe";

    /// <summary>How the routed experts are run (default: grouped matmuls when possible); both give the same result.</summary>
    public ExpertDispatchMode DispatchMode { get; set; } = ExpertDispatchMode.Auto;

    /// <summary>The router.</summary>
    public MoeRouter Gate => gate;

    /// <summary>The routed experts, in expert-id order.</summary>
    public IReadOnlyList<ExpertMlp> Experts => expertArray;

    /// <summary>The always-on residual expert, or null.</summary>
    public ExpertMlp? Residual => residual;

    /// <summary>Routes <c>(N, H)</c> or <c>(B, T, H)</c> hidden states and returns the same shape.</summary>
    public override Tensor forward(Tensor input)
    {
        ReleaseRouting();
        using var scope = NewDisposeScope();
        var shape = input.shape;
        var flat = input.reshape(-1, Options.HiddenSize); // (N, H)
        var logits = gate.forward(flat); // (N, E)
        var selectionLogits = gate.SelectionLogits(flat, logits); // (N, E)
        var (weights, selected) = ExpertRouting.Select(selectionLogits, Options.TopK, Options.Weights, flat.dtype); // (N, K), (N, K)
        var output = (DispatchMode == ExpertDispatchMode.Auto && groupable
                ? GroupedExpertDispatch.TryRun(flat, weights, selected, expertArray, Options.ScaleFactor) // (N, H) or null
                : null)
            ?? ExpertDispatch.Run(flat, weights, selected, expertArray, Options.ScaleFactor); // (N, H)
        if (residual is not null)
        {
            output = output.add(residual.forward(flat)); // (N, H)
        }

        if (RecordRouting)
        {
            LastRouterLogits = logits.DetachFromDisposeScope();
            LastSelectedExperts = selected.DetachFromDisposeScope();
        }

        return output.reshape(shape).MoveToOuterDisposeScope(); // input shape
    }

    /// <summary>Disposes the recorded routing tensors this block still owns.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleaseRouting();
        }

        base.Dispose(disposing);
    }

    // TorchSharp keeps Tensor.OwningDisposeScope internal; it tells whether a caller moved a recorded tensor into a scope.
    private static readonly PropertyInfo? OwningScope =
        typeof(Tensor).GetProperty("OwningDisposeScope", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    private static void DisposeIfOwned(Tensor? recorded)
    {
        if (recorded is not null && !recorded.IsInvalid && OwningScope?.GetValue(recorded) is null)
        {
            recorded.Dispose();
        }
    }

    private void ReleaseRouting()
    {
        DisposeIfOwned(LastRouterLogits);
        DisposeIfOwned(LastSelectedExperts);

        LastRouterLogits = null;
        LastSelectedExperts = null;
    }
}
