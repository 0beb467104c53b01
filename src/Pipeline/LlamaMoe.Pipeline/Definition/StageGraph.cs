namespace LlamaMoe.Pipeline.Definition;

/// <summary>Dependency order over stages' <c>needs</c>.</summary>
public static class StageGraph
{
    /// <summary>A cycle as stage ids (first repeated at the end), or null. Unknown needs are ignored.</summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyList<StageDefinition> stages)
    {
        var byId = stages.GroupBy(s => s.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var stage in stages)
        {
            if (Visit(stage.Id) is { } cycle)
            {
                return cycle;
            }
        }

        return null;

        IReadOnlyList<string>? Visit(string id)
        {
            if (state.TryGetValue(id, out var s))
            {
                if (s == 1)
                {
                    var start = path.IndexOf(id);
                    return [.. path.Skip(start), id];
                }

                return null;
            }

            state[id] = 1;
            path.Add(id);
            foreach (var need in byId[id].Needs)
            {
                if (need.Value != id && byId.ContainsKey(need.Value) && Visit(need.Value) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }
    }

    /// <summary>Stages in dependency order (ties in file order). Assumes no cycle.</summary>
    public static IReadOnlyList<StageDefinition> TopologicalOrder(IReadOnlyList<StageDefinition> stages)
    {
        var byId = stages.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<StageDefinition>();
        foreach (var stage in stages)
        {
            Visit(stage);
        }

        return order;

        void Visit(StageDefinition stage)
        {
            if (!done.Add(stage.Id))
            {
                return;
            }

            foreach (var need in stage.Needs)
            {
                if (byId.TryGetValue(need.Value, out var dependency))
                {
                    Visit(dependency);
                }
            }

            order.Add(stage);
        }
    }

    /// <summary>The stage and everything it transitively needs.</summary>
    public static IReadOnlySet<string> WithAncestors(IReadOnlyList<StageDefinition> stages, string id)
    {
        var byId = stages.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var result = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([id]);
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            if (result.Add(current) && byId.TryGetValue(current, out var stage))
            {
                foreach (var need in stage.Needs)
                {
                    stack.Push(need.Value);
                }
            }
        }

        return result;
    }
}
