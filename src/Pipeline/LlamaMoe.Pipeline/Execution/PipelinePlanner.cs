using LlamaMoe.Pipeline.Definition;
using LlamaMoe.Pipeline.Store;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>What <c>llama-moe plan</c> says about a stage.</summary>
public enum PlanAction
{
    /// <summary>Up to date: its key is in the store.</summary>
    UpToDate,

    /// <summary>Will run.</summary>
    Run,

    /// <summary>Runs only if a rebuilt input's digest changes (early cut-off may skip it).</summary>
    MayRun,

    /// <summary>Excluded by <c>--until</c>.</summary>
    NotRequested,
}

/// <summary>One stage in a plan.</summary>
/// <param name="StageId">The stage.</param>
/// <param name="Action">What a run would do.</param>
/// <param name="Reasons">Why (empty when up to date).</param>
public sealed record StagePlan(string StageId, PlanAction Action, IReadOnlyList<string> Reasons);

/// <summary>Works out which stages a run would execute and why, without running or locking anything.</summary>
public static class PipelinePlanner
{
    /// <summary>
    /// The digest of an input that a plan has not got yet (the upstream stage will run): paths under its folder are known
    /// after that stage runs, so they are neither checked nor hashed.
    /// </summary>
    public const string PendingDigest = "sha256:pending";

    /// <summary>Plans a run.</summary>
    public static IReadOnlyList<StagePlan> Plan(LoadedPipeline pipeline, string device, IReadOnlySet<string>? force = null, string? until = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        force ??= new HashSet<string>();
        var definition = pipeline.Definition;
        var selected = until is null ? pipeline.Stages.Select(s => s.Id).ToHashSet() : StageGraph.WithAncestors(definition.Stages, until);
        var store = new ArtifactStore(definition.StoreDirectory);
        var digests = new FileDigests(store.DigestMemoPath);
        var lockFile = LockFile.Read(definition.LockFilePath);
        var handles = new Dictionary<string, ArtifactHandle>(StringComparer.Ordinal);
        var actions = new Dictionary<string, PlanAction>(StringComparer.Ordinal);
        var plans = new List<StagePlan>();
        foreach (var stage in pipeline.Stages)
        {
            if (!selected.Contains(stage.Id))
            {
                plans.Add(new StagePlan(stage.Id, PlanAction.NotRequested, []));
                continue;
            }

            var previous = lockFile.Stages.GetValueOrDefault(stage.Id);
            var rebuilt = stage.Definition.Needs.Where(n => actions.GetValueOrDefault(n.Value) is PlanAction.Run or PlanAction.MayRun).Select(n => n.Value).ToList();
            foreach (var need in rebuilt)
            {
                // Assume the rebuilt input keeps its previous digest, to compare everything else.
                var earlier = lockFile.Stages.GetValueOrDefault(need);
                handles[need] = earlier is not null && store.HasObject(earlier.OutputDigest)
                    ? ArtifactManifest.Read(store.ObjectDirectory(earlier.OutputDigest)).ToHandle(need, store.ObjectDirectory(earlier.OutputDigest))
                    : new ArtifactHandle(need, pipeline.Stage(need).Plugin.Produces, store.ObjectDirectory(PendingDigest), PendingDigest, new Dictionary<string, string>());
            }

            var (_, keyInputs) = StageKeyBuilder.Build(pipeline, stage, handles, digests, device, environment);
            var key = keyInputs.ComputeKey();
            var cached = store.Lookup(key, repair: false);
            StagePlan plan;
            if (force.Contains(stage.Id))
            {
                plan = new StagePlan(stage.Id, PlanAction.Run, ["forced (--force)"]);
            }
            else if (rebuilt.Count > 0)
            {
                var reasons = rebuilt.Select(n => $"input '{n}' will be rebuilt").ToList();
                if (previous is not null)
                {
                    reasons.AddRange(StaleReasons.CompareSettings(keyInputs, previous.KeyInputs));
                }

                plan = new StagePlan(stage.Id, reasons.Count > rebuilt.Count || previous is null ? PlanAction.Run : PlanAction.MayRun, previous is null ? [.. reasons, "no previous run"] : reasons);
            }
            else
            {
                var reasons = StaleReasons.Explain(keyInputs, previous, cached is not null);
                plan = new StagePlan(stage.Id, reasons.Count == 0 ? PlanAction.UpToDate : PlanAction.Run, reasons);
            }

            if (plan.Action == PlanAction.UpToDate)
            {
                handles[stage.Id] = ArtifactManifest.Read(store.ObjectDirectory(cached!)).ToHandle(stage.Id, store.ObjectDirectory(cached!));
            }
            else if (!handles.ContainsKey(stage.Id))
            {
                handles[stage.Id] = previous is not null && store.HasObject(previous.OutputDigest)
                    ? ArtifactManifest.Read(store.ObjectDirectory(previous.OutputDigest)).ToHandle(stage.Id, store.ObjectDirectory(previous.OutputDigest))
                    : new ArtifactHandle(stage.Id, stage.Plugin.Produces, store.ObjectDirectory(PendingDigest), PendingDigest, new Dictionary<string, string>());
            }

            actions[stage.Id] = plan.Action;
            plans.Add(plan);
        }

        return plans;
    }
}
