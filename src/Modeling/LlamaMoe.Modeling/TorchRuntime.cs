using TorchSharp;

namespace LlamaMoe.Modeling;

/// <summary>Loads the native libtorch runtime once and turns a load failure into one clear sentence.</summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool loaded;

    /// <summary>Ensures libtorch is loaded; throws <see cref="TorchUnavailableException"/> with advice when it cannot be.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded)
            {
                return;
            }

            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                loaded = true;
            }
            catch (Exception ex) when (ex is NotSupportedException or DllNotFoundException or TypeInitializationException or InvalidOperationException)
            {
                throw new TorchUnavailableException(
                    "LMOE1001: the native TorchSharp library (libLibTorchSharp.so) could not be loaded: " + Innermost(ex).Message +
                    " Rebuild with 'dotnet build' so the GLIBCXX workaround in build/LibTorchSharp.Glibcxx.targets is applied to the output, " +
                    "or install a libstdc++ that provides GLIBCXX_3.4.32.",
                    ex);
            }
        }
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}

/// <summary>Raised when the native TorchSharp runtime cannot be loaded on this machine.</summary>
public sealed class TorchUnavailableException : Exception
{
    /// <summary>Creates the exception with a message that says what to do.</summary>
    public TorchUnavailableException(string message, Exception inner) : base(message, inner)
    {
    }
}
