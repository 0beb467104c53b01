using System.Text.Json.Nodes;
using LlamaMoe.Pipeline.Store;

namespace LlamaMoe.Pipeline.Execution;

/// <summary>Explains why a stage is stale by comparing its key inputs with the lock file's record.</summary>
public static class StaleReasons
{
    /// <summary>The reasons; empty when the stage is up to date.</summary>
    /// <param name="now">The key inputs now.</param>
    /// <param name="previous">The lock record, if any.</param>
    /// <param name="artifactPresent">Whether the store holds an artifact for the current key.</param>
    public static IReadOnlyList<string> Explain(StageKeyInputs now, StageRecord? previous, bool artifactPresent)
    {
        if (previous is null)
        {
            return artifactPresent ? [] : ["no previous run"];
        }

        var key = now.ComputeKey();
        if (key == previous.Key)
        {
            return artifactPresent ? [] : ["artifact missing"];
        }

        var reasons = CompareSettings(now, previous.KeyInputs);
        foreach (var stage in now.Artifacts.Keys.Union(previous.KeyInputs.Artifacts.Keys).Order(StringComparer.Ordinal))
        {
            var before = previous.KeyInputs.Artifacts.GetValueOrDefault(stage);
            var after = now.Artifacts.GetValueOrDefault(stage);
            if (before != after)
            {
                reasons.Add(before is null ? $"new input '{stage}'" : after is null ? $"input '{stage}' removed" : $"input '{stage}' changed");
            }
        }

        foreach (var file in now.Files.Keys.Union(previous.KeyInputs.Files.Keys).Order(StringComparer.Ordinal))
        {
            if (now.Files.GetValueOrDefault(file) != previous.KeyInputs.Files.GetValueOrDefault(file))
            {
                reasons.Add($"input file of option '{file}' changed");
            }
        }

        if (reasons.Count == 0)
        {
            reasons.Add(artifactPresent ? "key changed (engine version)" : "artifact missing");
        }

        return reasons;
    }

    /// <summary>Differences in plugin, version, options, secrets, device and seed.</summary>
    public static List<string> CompareSettings(StageKeyInputs now, StageKeyInputs before)
    {
        var reasons = new List<string>();
        if (now.Plugin != before.Plugin)
        {
            reasons.Add($"plugin changed ({before.Plugin} → {now.Plugin})");
        }
        else if (now.Version != before.Version)
        {
            reasons.Add($"plugin version changed ({before.Version} → {now.Version})");
        }

        if (now.Options != before.Options)
        {
            var a = JsonNode.Parse(before.Options) as JsonObject ?? [];
            var b = JsonNode.Parse(now.Options) as JsonObject ?? [];
            foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key)).Order(StringComparer.Ordinal))
            {
                var x = a[name]?.ToJsonString() ?? "null";
                var y = b[name]?.ToJsonString() ?? "null";
                if (x != y)
                {
                    reasons.Add($"option '{name}' changed ({Short(x)} → {Short(y)})");
                }
            }
        }

        if (now.Secrets != before.Secrets)
        {
            reasons.Add("a secret value changed");
        }

        if (now.Device != before.Device)
        {
            reasons.Add($"device changed ({before.Device} → {now.Device})");
        }

        if (now.Seed != before.Seed)
        {
            reasons.Add($"seed changed ({before.Seed} → {now.Seed})");
        }

        return reasons;
    }

    private static string Short(string json) => json.Length <= 40 ? json : json[..37] + "...";
}
