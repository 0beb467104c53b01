namespace LlamaMoe.Modeling.Tests.Architecture;

/// <summary>
/// The dependencies between the top-level folders (namespaces one level below a root namespace) of an
/// assembly, each edge with one example of a type that causes it, and the cycles among them.
/// </summary>
internal sealed class FolderGraph
{
    /// <summary>The name used for types directly in the root namespace.</summary>
    public const string RootFolder = "(root)";

    private readonly SortedDictionary<string, SortedDictionary<string, (TypeName From, TypeName To)>> _edges = new(StringComparer.Ordinal);

    private FolderGraph()
    {
    }

    /// <summary>All folders, sorted.</summary>
    public IReadOnlyList<string> Folders => [.. _edges.Keys];

    /// <summary>Builds the graph of <paramref name="typeUses"/>, keeping only types in <paramref name="rootNamespace"/> or below.</summary>
    public static FolderGraph Build(IReadOnlyDictionary<TypeName, IReadOnlySet<TypeName>> typeUses, string rootNamespace)
    {
        var graph = new FolderGraph();
        foreach (var (from, usedTypes) in typeUses)
        {
            if (FolderOf(from, rootNamespace) is not { } fromFolder)
            {
                continue;
            }

            var targets = graph.EdgesOf(fromFolder);
            foreach (var to in usedTypes.OrderBy(type => type.ToString(), StringComparer.Ordinal))
            {
                if (FolderOf(to, rootNamespace) is { } toFolder && toFolder != fromFolder)
                {
                    graph.EdgesOf(toFolder);
                    targets.TryAdd(toFolder, (from, to));
                }
            }
        }

        return graph;
    }

    /// <summary>The folders that <paramref name="folder"/> uses, sorted.</summary>
    public IReadOnlyList<string> DependenciesOf(string folder) => [.. _edges[folder].Keys];

    /// <summary>One pair of types that makes <paramref name="from"/> depend on <paramref name="to"/>.</summary>
    public (TypeName From, TypeName To) ExampleOf(string from, string to) => _edges[from][to];

    /// <summary>
    /// One cycle per strongly connected group of folders (each listed from its alphabetically first folder
    /// and ending where it started); empty when the folder graph is acyclic.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> FindCycles()
    {
        var cycles = new List<IReadOnlyList<string>>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in _edges.Keys)
        {
            if (covered.Contains(start) || ShortestPath(start, start) is not { } cycle)
            {
                continue;
            }

            var group = _edges.Keys.Where(folder => ShortestPath(start, folder) is not null && ShortestPath(folder, start) is not null);
            covered.UnionWith(group);
            cycles.Add(cycle);
        }

        return cycles;
    }

    /// <summary>Describes a cycle with one example type pair per edge.</summary>
    public string Describe(IReadOnlyList<string> cycle) =>
        string.Join(" -> ", cycle) + Environment.NewLine + string.Join(Environment.NewLine,
            cycle.Zip(cycle.Skip(1), (from, to) => $"  {from} -> {to}: {ExampleOf(from, to).From} uses {ExampleOf(from, to).To}"));

    private static string? FolderOf(TypeName type, string rootNamespace)
    {
        if (type.Namespace == rootNamespace)
        {
            return RootFolder;
        }

        if (!type.Namespace.StartsWith(rootNamespace + ".", StringComparison.Ordinal))
        {
            return null;
        }

        return type.Namespace[(rootNamespace.Length + 1)..].Split('.')[0];
    }

    private SortedDictionary<string, (TypeName From, TypeName To)> EdgesOf(string folder)
    {
        if (!_edges.TryGetValue(folder, out var targets))
        {
            _edges[folder] = targets = new SortedDictionary<string, (TypeName From, TypeName To)>(StringComparer.Ordinal);
        }

        return targets;
    }

    /// <summary>The shortest path of at least one edge from <paramref name="from"/> to <paramref name="to"/>, or null.</summary>
    private List<string>? ShortestPath(string from, string to)
    {
        var previous = new Dictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>([from]);
        while (queue.TryDequeue(out var folder))
        {
            foreach (var next in _edges[folder].Keys)
            {
                if (next == to)
                {
                    var path = new List<string> { to, folder };
                    while (path[^1] != from)
                    {
                        path.Add(previous[path[^1]]);
                    }

                    path.Reverse();
                    return path;
                }

                if (next != from && previous.TryAdd(next, folder))
                {
                    queue.Enqueue(next);
                }
            }
        }

        return null;
    }
}
