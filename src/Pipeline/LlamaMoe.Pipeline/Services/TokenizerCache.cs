using System.Collections.Concurrent;

namespace LlamaMoe.Pipeline.Services;

/// <summary>A thread-safe keyed cache for the run.</summary>
public sealed class TokenizerCache : ITokenizerCache
{
    private readonly ConcurrentDictionary<(Type, string), Lazy<object>> entries = new();

    /// <inheritdoc />
    public T GetOrAdd<T>(string key, Func<string, T> factory)
        where T : class =>
        (T)entries.GetOrAdd((typeof(T), key), k => new Lazy<object>(() => factory(k.Item2))).Value;
}
