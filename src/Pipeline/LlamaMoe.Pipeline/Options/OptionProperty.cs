using System.Collections.Concurrent;
using System.Reflection;

namespace LlamaMoe.Pipeline.Options;

/// <summary>One bindable option property of an options class: its kebab-case key and attribute.</summary>
/// <param name="Property">The property.</param>
/// <param name="Key">The kebab-case YAML key.</param>
/// <param name="Attribute">Its <see cref="OptionAttribute"/>, or a default one.</param>
public sealed record OptionProperty(PropertyInfo Property, string Key, OptionAttribute Attribute)
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<OptionProperty>> Cache = new();

    /// <summary>The bindable properties of <paramref name="type"/> (public, settable, instance), sorted by key.</summary>
    public static IReadOnlyList<OptionProperty> Of(Type type) => Cache.GetOrAdd(type, t => t
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
        .Select(p => new OptionProperty(p, KebabCase.From(p.Name), p.GetCustomAttribute<OptionAttribute>() ?? new OptionAttribute()))
        .OrderBy(p => p.Key, StringComparer.Ordinal)
        .ToList());

    /// <summary>The element type when <paramref name="type"/> is an array or list-like generic, else null.</summary>
    public static Type? ListElement(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            if (definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>)
                || definition == typeof(IEnumerable<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(ICollection<>))
            {
                return type.GetGenericArguments()[0];
            }
        }

        return null;
    }

    /// <summary>True for string-to-string dictionaries.</summary>
    public static bool IsStringMap(Type type) =>
        type == typeof(Dictionary<string, string>) || type == typeof(IReadOnlyDictionary<string, string>) || type == typeof(IDictionary<string, string>);

    /// <summary>True for a nested options object (a class with a parameterless constructor that is not a string, list or map).</summary>
    public static bool IsObject(Type type) =>
        type.IsClass && type != typeof(string) && !type.IsArray && ListElement(type) is null && !IsStringMap(type) && type.GetConstructor(Type.EmptyTypes) is not null;
}
