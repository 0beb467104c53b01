using LlamaMoe.Modeling.AttentionMoe;
using LlamaMoe.Modeling.Llama;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Alignment;

/// <summary>
/// LLaMA-MoE v2's optional distribution alignment (spec §1.4): the dense model's per-dimension mean and variance of every
/// layer's attention output and MLP output over calibration tokens are the reference; layer by layer (attention, then
/// MLP), the converted model's MoE module output statistics are measured on the same tokens, with every earlier layer
/// already aligned, and <c>a = sqrt(var_ref / var_moe)</c>, <c>b = mean_ref − mean_moe · a</c> are folded into the experts
/// (<see cref="AlignmentFolding"/>), so the module's output on the calibration tokens has exactly the reference mean and
/// variance. The MLP module is the whole branch (routed experts plus the residual expert; v2 measures only the routed part).
/// </summary>
public static class DistributionAlignment
{
    /// <summary>
    /// Returns an aligned copy of <paramref name="moe"/> (same dtype and device; the caller disposes it) and the corrections
    /// applied; <paramref name="moe"/> and <paramref name="dense"/> are not changed.
    /// </summary>
    /// <param name="dense">The dense reference the MoE was converted from.</param>
    /// <param name="moe">A native MoE model (<c>model_type: llamamoe</c>).</param>
    /// <param name="sequences">Calibration token ids, one array per sequence.</param>
    /// <param name="options">What to align.</param>
    /// <param name="cancellationToken">Stops between modules.</param>
    /// <exception cref="LlamaMoeException">LMOE2501 when a bias cannot be folded exactly; LMOE2502 for a model mismatch; LMOE2503 without tokens.</exception>
    public static (LlamaForCausalLM Model, IReadOnlyList<ModuleAlignment> Modules) Align(
        LlamaForCausalLM dense, LlamaForCausalLM moe, IReadOnlyList<int[]> sequences, AlignmentOptions options, CancellationToken cancellationToken = default)
    {
        CheckModels(dense, moe);
        if (sequences.All(s => s.Length == 0))
        {
            throw new LlamaMoeException(AlignmentErrors.NoData, "alignment needs calibration tokens, got none", key: "data", advice: "Pass a non-empty calibration file.");
        }

        var layers = moe.Model.Layers;
        var attentionLayers = Enumerable.Range(0, layers.Count).Where(i => options.Attention && layers[i].Attention is AttentionMoeBlock).ToHashSet();
        var mlpLayers = Enumerable.Range(0, layers.Count).Where(i => options.Mlp && layers[i].FeedForward is SparseMoeBlock).ToHashSet();
        var aligned = AlignmentModels.WithBiases(moe, options.Bias && mlpLayers.Count > 0, options.Bias && attentionLayers.Count > 0);
        var states = new List<SequenceState>();
        var reference = new ReferenceStatistics(dense.Config.HiddenSize, attentionLayers, mlpLayers, dense.Device);
        try
        {
            using var noGrad = no_grad();
            dense.eval();
            aligned.eval();
            foreach (var ids in sequences.Where(s => s.Length > 0))
            {
                reference.Record(dense, ids);
                states.Add(SequenceState.Start(aligned.Model, ids));
            }

            var modules = new List<ModuleAlignment>();
            for (var i = 0; i < layers.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var layer = aligned.Model.Layers[i];
                var index = i;
                Tensor AttentionOutput(SequenceState s) => layer.Attention.Forward(layer.InputLayerNorm.forward(s.Hidden), s.Cos, s.Sin, s.Mask, null, index); // (1, T, H)
                Tensor MlpOutput(SequenceState s) => layer.FeedForward.forward(layer.PostAttentionLayerNorm.forward(s.Hidden));                                    // (1, T, H)
                if (attentionLayers.Contains(i))
                {
                    modules.Add(AlignModule(states, AttentionOutput, reference.Attention[i], options.Bias, i, "attention",
                        (scale, bias) => AlignmentFolding.FoldAttention((AttentionMoeBlock)layer.Attention, scale, bias, index)));
                }

                states.ForEach(s => s.Advance(AttentionOutput));
                if (mlpLayers.Contains(i))
                {
                    modules.Add(AlignModule(states, MlpOutput, reference.Mlp[i], options.Bias, i, "mlp",
                        (scale, bias) => AlignmentFolding.FoldMlp((SparseMoeBlock)layer.FeedForward, scale, bias, index)));
                }

                states.ForEach(s => s.Advance(MlpOutput));
            }

            aligned.train(moe.training);
            return (aligned, modules);
        }
        catch
        {
            aligned.Dispose();
            throw;
        }
        finally
        {
            states.ForEach(s => s.Dispose());
            reference.Dispose();
        }
    }

    private static ModuleAlignment AlignModule(List<SequenceState> states, Func<SequenceState, Tensor> output, OutputStatistics target, bool bias, int layer, string module, Action<Tensor, Tensor?> fold)
    {
        using var measured = new OutputStatistics(target.HiddenSize, states[0].Hidden.device);
        foreach (var state in states)
        {
            using var scope = NewDisposeScope();
            measured.Add(output(state));
        }

        using var outer = NewDisposeScope();
        var (scale, shift) = measured.AffineTo(target); // (H), (H)
        fold(scale, bias ? shift : null);
        return new ModuleAlignment(layer, module, scale.mean().item<double>(), shift.abs().max().item<double>(), measured.Count);
    }

    private static void CheckModels(LlamaForCausalLM dense, LlamaForCausalLM moe)
    {
        var moeConfig = MoeModelFactory.MoeConfigOf(moe)
            ?? throw new LlamaMoeException(AlignmentErrors.ModelMismatch, "the model to align is not a native MoE model", key: "model_type", advice: "Align the output of build-moe.");
        var d = dense.Config;
        var m = moeConfig.Dense;
        if (MoeModelFactory.MoeConfigOf(dense) is not null || d.HiddenSize != m.HiddenSize || d.NumHiddenLayers != m.NumHiddenLayers
            || d.VocabSize != m.VocabSize || d.NumAttentionHeads != m.NumAttentionHeads || d.NumKeyValueHeads != m.NumKeyValueHeads)
        {
            throw new LlamaMoeException(AlignmentErrors.ModelMismatch,
                $"the dense reference ({d.NumHiddenLayers} layers, width {d.HiddenSize}, {d.NumAttentionHeads}/{d.NumKeyValueHeads} heads) does not match the MoE model ({m.NumHiddenLayers} layers, width {m.HiddenSize}, {m.NumAttentionHeads}/{m.NumKeyValueHeads} heads)",
                key: "model", advice: "Align against the dense model the MoE was built from.");
        }
    }
}
