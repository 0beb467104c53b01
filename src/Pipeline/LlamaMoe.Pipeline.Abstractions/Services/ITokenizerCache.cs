namespace LlamaMoe.Pipeline;

/// <summary>A keyed cache shared by the stages of one run, so a tokenizer file is parsed once.</summary>
public interface ITokenizerCache
{
    /// <summary>Returns the cached value for <paramref name="key"/> (for example a tokenizer file's full path), creating it once.</summary>
    T GetOrAdd<T>(string key, Func<string, T> factory)
        where T : class;
}
