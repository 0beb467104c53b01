using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Training;

/// <summary>The router terms of one forward pass.</summary>
/// <param name="Balance">The balance loss (scalar, before its coefficient), or null when off or no layer routes.</param>
/// <param name="ZLoss">The z-loss (scalar, before its coefficient), or null when off.</param>
/// <param name="Statistics">Per routed layer, the routing statistics of this pass.</param>
public sealed record RouterTerms(Tensor? Balance, Tensor? ZLoss, IReadOnlyList<RoutingRow> Statistics);

/// <summary>One layer's routing statistics still on the device (see <see cref="LayerRoutingStatistics.ComputeOnDevice"/>).</summary>
/// <param name="Layer">Layer index.</param>
/// <param name="Values">The <c>(E + 2)</c> statistics row.</param>
public sealed record RoutingRow(int Layer, Tensor Values);

/// <summary>Collects the router logits recorded by the MoE blocks of a model and turns them into losses and statistics.</summary>
public static class RouterLossAggregator
{
    /// <summary>
    /// Computes the balance loss (Switch and z-loss averaged over routed layers, CV² summed over them as in v1,
    /// v2-parity averaged) and the statistics. Blocks without recorded logits (dense layers) are skipped.
    /// </summary>
    public static RouterTerms Compute(IReadOnlyList<FeedForwardBlock> blocks, BalanceLossKind kind, bool zLoss, int fallbackTopK, Tensor? tokenMask)
    {
        var balance = new List<Tensor>();
        var z = new List<Tensor>();
        var statistics = new List<RoutingRow>();
        for (var layer = 0; layer < blocks.Count; layer++)
        {
            var logits = blocks[layer].LastRouterLogits; // (N, E)
            if (logits is null || logits.IsInvalid)
            {
                continue;
            }

            using var selectedScope = NewDisposeScope();
            var selected = blocks[layer].LastSelectedExperts is { IsInvalid: false } recorded
                ? recorded // (N, K)
                : logits.detach().topk(Math.Min(fallbackTopK, (int)logits.shape[1]), dim: -1).indexes; // (N, K)
            var mask = tokenMask is not null && tokenMask.shape[0] == logits.shape[0] ? tokenMask : null;
            statistics.Add(new RoutingRow(layer, LayerRoutingStatistics.ComputeOnDevice(logits, selected, mask).MoveToOuterDisposeScope()));
            Tensor? term = kind switch
            {
                BalanceLossKind.Switch => RouterLosses.SwitchLoadBalancing(logits, selected, mask),
                BalanceLossKind.CvSquared => RouterLosses.CoefficientOfVariationSquared(logits, selected, mask),
                BalanceLossKind.MixtralV2Parity => RouterLosses.MixtralV2Parity(logits, (int)selected.shape[1]),
                _ => null,
            };
            if (term is not null)
            {
                balance.Add(term.MoveToOuterDisposeScope());
            }

            if (zLoss)
            {
                z.Add(RouterLosses.ZLoss(logits, mask).MoveToOuterDisposeScope());
            }
        }

        return new RouterTerms(Combine(balance, average: kind != BalanceLossKind.CvSquared), Combine(z, average: true), statistics);
    }

    private static Tensor? Combine(List<Tensor> terms, bool average)
    {
        if (terms.Count == 0)
        {
            return null;
        }

        var total = stack(terms).sum(); // scalar
        return average ? total / terms.Count : total;
    }
}
