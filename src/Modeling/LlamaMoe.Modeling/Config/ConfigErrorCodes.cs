namespace LlamaMoe.Modeling.Config;

/// <summary>The stable LMOE2xxx codes raised while reading a model config or building a model from it.</summary>
public static class ConfigErrorCodes
{
    /// <summary>config.json is missing or unreadable.</summary>
    public const string Missing = "LMOE2001";

    /// <summary>config.json is not valid JSON, is not an object, or has a key twice.</summary>
    public const string Malformed = "LMOE2002";

    /// <summary>config.json has a key the reader does not know.</summary>
    public const string UnknownKey = "LMOE2003";

    /// <summary>A value has the wrong type or is out of range.</summary>
    public const string InvalidValue = "LMOE2004";

    /// <summary>Two or more keys contradict each other.</summary>
    public const string Contradiction = "LMOE2005";

    /// <summary>A feature (rope scaling type, activation, model type) is not supported.</summary>
    public const string Unsupported = "LMOE2006";

    /// <summary>A tensor the model needs is missing from the checkpoint, or has the wrong shape.</summary>
    public const string MissingOrMisshapenTensor = "LMOE2010";

    /// <summary>The checkpoint holds a tensor the model does not have.</summary>
    public const string UnexpectedTensor = "LMOE2011";
}
