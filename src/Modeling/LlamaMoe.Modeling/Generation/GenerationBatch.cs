using System.Diagnostics;
using LlamaMoe.Modeling.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Generation;

/// <summary>
/// One batch of <see cref="BatchedGenerator"/>: left-padded prompts decoded together with one KV cache. Without padding
/// (all prompts of one length) it passes no mask and no positions, so the model takes its fused causal path.
/// </summary>
/// <param name="model">The model.</param>
/// <param name="promptIndices">Each row's index in the caller's prompt list (for <see cref="BatchedGenerationOptions.StopWhen"/>).</param>
/// <param name="prompts">Each row's prompt ids.</param>
/// <param name="options">The settings.</param>
internal sealed class GenerationBatch(LlamaForCausalLM model, IReadOnlyList<int> promptIndices, IReadOnlyList<IReadOnlyList<int>> prompts, BatchedGenerationOptions options)
{
    // Fed in padding slots and to finished rows; always masked out, so any id in the vocabulary would do.
    private const long PadId = 0;

    private readonly int width = prompts.Max(p => p.Count);

    /// <summary>Decodes the batch; returns each row's new ids and this batch's timing.</summary>
    public (GeneratedSequence[] Sequences, GenerationTiming Timing) Run(CancellationToken cancellationToken)
    {
        var device = model.LmHeadWeight.device;
        var rows = prompts.Count;
        var maxPositions = model.Config.MaxPositionEmbeddings;
        var budget = options.Decoding.MaxNewTokens;
        var limits = prompts.Select(p => p.Count > maxPositions ? 0 : Math.Min(budget, maxPositions - p.Count + 1)).ToArray(); // as TextGenerator
        var steps = limits.Max();
        var state = new RowState(limits, budget, options.Decoding.StopTokenIds, options.StopWhen, promptIndices);
        var picker = new DeviceTokenPicker(options.Decoding, rows);
        var clock = Stopwatch.StartNew();
        var prefill = TimeSpan.Zero;
        var forwards = 0;
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        using var batchScope = NewDisposeScope();
        var padded = prompts.Any(p => p.Count != width);
        var keyMask = padded ? KeyMask(steps, device) : null;                                                  // (B, W+steps) or null
        var firstPositions = padded ? torch.tensor(prompts.Select(p => (long)p.Count).ToArray(), device: device).unsqueeze(1) : null; // (B, 1)
        Tensor? finished = null;                                                                              // (B) bool, rows fed padding
        var logits = state.AnyActive ? Prefill(keyMask, cache, device) : null;                               // (B, V)
        try
        {
            for (var step = 0; logits is not null; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                var next = picker.Next(logits, state.Active);                                                 // (B)
                var picked = next.cpu().data<long>().ToArray();                                               // the one read-back per step
                forwards++;
                prefill = step == 0 ? clock.Elapsed : prefill;
                var newlyFinished = state.Record(picked);
                if (!state.AnyActive || step == steps - 1)
                {
                    break;
                }

                if (newlyFinished)
                {
                    finished?.Dispose();
                    finished = torch.tensor(state.Active.Select(a => !a).ToArray(), device: device).DetachFromDisposeScope(); // (B)
                }

                if (finished is not null)
                {
                    next = next.masked_fill(finished, PadId);                                                 // (B), finished rows get padding
                }

                var positions = firstPositions?.add(step);                                                    // (B, 1), or null: the cache length
                var mask = keyMask?.narrow(1, 0, width + step + 1);                                           // (B, S), or null: all keys
                using var hidden = model.Model.Forward(next.unsqueeze(1), positions, mask, cache);           // (B, 1, D)
                var stepLogits = nn.functional.linear(hidden.select(1, 0), model.LmHeadWeight);              // (B, V)
                logits.Dispose();
                logits = stepLogits.DetachFromDisposeScope();
            }
        }
        finally
        {
            logits?.Dispose();
            finished?.Dispose();
        }

        var total = clock.Elapsed;
        var timing = new GenerationTiming(prefill, total - prefill, prompts.Sum(p => (long)p.Count), state.GeneratedTokens, 1, forwards);
        return (state.Sequences(), timing);
    }

    // One pass over the left-padded prompts; returns the last column's logits (B, V), each row's last real token, outside every scope.
    private Tensor Prefill(Tensor? keyMask, KvCache cache, Device device)
    {
        using var scope = NewDisposeScope();
        var rows = prompts.Count;
        var ids = new long[rows * width];
        var positions = new long[rows * width];
        for (var r = 0; r < rows; r++)
        {
            var pad = width - prompts[r].Count;
            for (var t = 0; t < prompts[r].Count; t++)
            {
                ids[(r * width) + pad + t] = prompts[r][t];
                positions[(r * width) + pad + t] = t;
            }
        }

        var input = torch.tensor(ids, [rows, width], device: device);                                         // (B, W)
        Tensor? positionIds = null;
        Tensor? mask = null;
        if (keyMask is not null)
        {
            positionIds = torch.tensor(positions, [rows, width], device: device);                              // (B, W), padding at 0
            var keys = keyMask.narrow(1, 0, width).view(rows, 1, 1, width);                                     // (B, 1, 1, W)
            var self = torch.eye(width, dtype: ScalarType.Bool, device: device).view(1, 1, width, width);       // (1, 1, W, W)
            mask = keys.logical_or(self);                                                                       // (B, 1, W, W): a padding query sees itself only
        }

        var hidden = model.Model.Forward(input, positionIds, mask, cache);                                     // (B, W, D)
        var last = nn.functional.linear(hidden.select(1, width - 1), model.LmHeadWeight);                     // (B, V)
        return last.DetachFromDisposeScope();
    }

    // The keys each row may attend to: its real prompt tokens and every generated slot (B, W + steps).
    private Tensor KeyMask(int steps, Device device)
    {
        var rows = prompts.Count;
        var keys = new bool[rows * (width + steps)];
        for (var r = 0; r < rows; r++)
        {
            for (var s = width - prompts[r].Count; s < width + steps; s++)
            {
                keys[(r * (width + steps)) + s] = true;
            }
        }

        return torch.tensor(keys, [rows, width + steps], device: device);
    }

    /// <summary>The host-side state of each row: its new ids, whether it still generates and why it stopped.</summary>
    private sealed class RowState(int[] limits, int budget, IReadOnlyList<int>? stopTokenIds, Func<int, IReadOnlyList<int>, bool>? stopWhen, IReadOnlyList<int> promptIndices)
    {
        private readonly List<int>[] generated = limits.Select(_ => new List<int>()).ToArray();
        private readonly GenerationFinishReason[] reasons = limits.Select(l => l < budget ? GenerationFinishReason.ContextFull : GenerationFinishReason.MaxTokens).ToArray();
        private readonly HashSet<int> stops = [.. stopTokenIds ?? []];

        public bool[] Active { get; } = limits.Select(l => l > 0).ToArray();

        public bool AnyActive => Active.Any(a => a);

        public long GeneratedTokens => generated.Sum(g => (long)g.Count);

        /// <summary>Appends each active row's new token; returns whether a row finished.</summary>
        public bool Record(long[] picked)
        {
            var finishedAny = false;
            for (var r = 0; r < picked.Length; r++)
            {
                if (!Active[r])
                {
                    continue;
                }

                var token = (int)picked[r];
                generated[r].Add(token);
                if (stops.Contains(token))
                {
                    reasons[r] = GenerationFinishReason.StopToken;
                }
                else if (stopWhen?.Invoke(promptIndices[r], generated[r]) == true)
                {
                    reasons[r] = GenerationFinishReason.StopCondition;
                }
                else if (generated[r].Count < limits[r])
                {
                    continue;
                }

                Active[r] = false;
                finishedAny = true;
            }

            return finishedAny;
        }

        public GeneratedSequence[] Sequences() => generated.Select((g, r) => new GeneratedSequence(g, reasons[r])).ToArray();
    }
}
