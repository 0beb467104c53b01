using LlamaMoe.Modeling.Formats.Safetensors;
using LlamaMoe.Modeling.Moe;
using LlamaMoe.Modeling.MoeModel;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>
/// The streamed output tensors of one MoE layer: router, then w1 of every expert (and the residual) from gate_proj,
/// w3 from up_proj, w2 from down_proj, so each dense matrix is read once. Biases follow <see cref="Construction.ExpertSlicer"/>:
/// a down_proj bias goes to the residual expert, or is divided by E over the routed experts.
/// </summary>
internal static class ExpertTensorPlanner
{
    public static IEnumerable<StreamedTensor> Plan(MoeConfig config, int layer, MoeLayerPlan plan, ShardedCheckpoint checkpoint, DenseTensorCache cache)
    {
        var dense = $"model.layers.{layer}.mlp.";
        var moe = $"model.layers.{layer}.block_sparse_moe.";
        var dtype = checkpoint.Info(dense + "gate_proj.weight").ScalarType;
        var hidden = (long)config.Dense.HiddenSize;
        var experts = config.ExpertCount;
        var partition = plan.Partition;
        var bias = config.Dense.MlpBias;
        var sets = partition.Experts.Select((set, e) => (Prefix: $"{moe}experts.{e}.", Set: set)).ToList();
        if (partition.Residual is { } residual)
        {
            sets.Add(($"{moe}mlp_residual.", residual));
        }

        foreach (var tensor in RouterTensors(config, moe, plan.RouterWeight, dtype))
        {
            yield return tensor;
        }

        foreach (var (source, target) in new[] { ("gate_proj", "w1"), ("up_proj", "w3") })
        {
            foreach (var (prefix, set) in sets)
            {
                var rows = set;
                var key = dense + source;
                yield return new StreamedTensor(prefix + target + ".weight", dtype, [rows.Length, hidden], () => cache.Get(key + ".weight").index_select(0, Index(rows)));
                if (bias)
                {
                    yield return new StreamedTensor(prefix + target + ".bias", dtype, [rows.Length], () => checkpoint.Read(key + ".bias").index_select(0, Index(rows)));
                }
            }
        }

        foreach (var (prefix, set) in sets)
        {
            var columns = set;
            var isResidual = prefix.EndsWith("mlp_residual.", StringComparison.Ordinal);
            yield return new StreamedTensor(prefix + "w2.weight", dtype, [hidden, columns.Length], () => cache.Get(dense + "down_proj.weight").index_select(1, Index(columns)));
            if (bias)
            {
                var share = partition.Residual is null ? 1.0 / experts : isResidual ? 1.0 : 0.0;
                yield return new StreamedTensor(prefix + "w2.bias", dtype, [hidden], () => checkpoint.Read(dense + "down_proj.bias").mul(share));
            }
        }
    }

    private static IEnumerable<StreamedTensor> RouterTensors(MoeConfig config, string moe, Tensor routerWeight, ScalarType dtype)
    {
        var experts = config.ExpertCount;
        var hidden = (long)config.Dense.HiddenSize;
        if (config.Router.Network == RouterNetwork.Linear)
        {
            yield return new StreamedTensor(moe + "gate.weight", dtype, [experts, hidden], () => routerWeight.detach().cpu().to(dtype).clone());
        }
        else
        {
            yield return new StreamedTensor(moe + "gate.gate_network.0.weight", dtype, [experts, hidden], () => routerWeight.detach().cpu().to(dtype).clone());
            yield return new StreamedTensor(moe + "gate.gate_network.2.weight", dtype, [experts, experts], () => eye(experts, dtype: dtype));
        }

        if (config.Router.Noisy)
        {
            yield return new StreamedTensor(moe + "gate.weight_noise.weight", dtype, [experts, hidden], () => zeros(experts, hidden, dtype: dtype));
        }
    }

    private static Tensor Index(int[] neurons) => tensor(neurons.Select(n => (long)n).ToArray()); // (m)
}
