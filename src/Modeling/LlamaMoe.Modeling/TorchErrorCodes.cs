namespace LlamaMoe.Modeling;

/// <summary>Error codes of the native runtime (libtorch) location and loading (LMOE100x).</summary>
public static class TorchErrorCodes
{
    /// <summary>LMOE1001: the native TorchSharp library cannot be loaded.</summary>
    public const string NotLoadable = "LMOE1001";

    /// <summary>LMOE1002: LLAMAMOE_LIBTORCH names a folder that does not exist.</summary>
    public const string LocationMissing = "LMOE1002";

    /// <summary>LMOE1003: the LLAMAMOE_LIBTORCH folder lacks libc10.so, libtorch_cpu.so or libtorch.so.</summary>
    public const string LocationWithoutLibTorch = "LMOE1003";

    /// <summary>LMOE1004: LLAMAMOE_LIBTORCH=python could not ask Python's torch where libtorch is.</summary>
    public const string PythonProbeFailed = "LMOE1004";

    /// <summary>LMOE1005: a library of the chosen libtorch fails to load, or libLibTorchSharp.so does not bind to it.</summary>
    public const string PreloadFailed = "LMOE1005";

    /// <summary>LMOE1006: a bundled libtorch beside the application differs from the chosen one, so two copies would load.</summary>
    public const string SecondLibTorch = "LMOE1006";

    /// <summary>LMOE1007: the libtorch package could not be restored into the NuGet cache.</summary>
    public const string RestoreFailed = "LMOE1007";

    /// <summary>LMOE1008: the restored libtorch package is incomplete, or TorchSharp names no libtorch version.</summary>
    public const string PackageIncomplete = "LMOE1008";
}
