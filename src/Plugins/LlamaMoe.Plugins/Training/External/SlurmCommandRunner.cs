using System.Diagnostics;
using System.Text;

namespace LlamaMoe.Plugins.Training.External;

/// <summary>The result of one Slurm command.</summary>
/// <param name="ExitCode">Process exit code.</param>
/// <param name="StandardOutput">Everything it printed on stdout.</param>
/// <param name="StandardError">Everything it printed on stderr.</param>
public sealed record SlurmCommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>True when the command exited 0.</summary>
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs Slurm client commands as child processes (argument lists, never a shell), with a timeout and extra environment.</summary>
public sealed class SlurmCommandRunner
{
    private readonly SlurmBackendOptions _options;

    /// <summary>Creates a runner for the given settings.</summary>
    public SlurmCommandRunner(SlurmBackendOptions options) => _options = options;

    /// <summary>Runs <paramref name="command"/> and returns its output whatever its exit code; throws LMOE3450 when it cannot start, LMOE3451 on timeout.</summary>
    public async Task<SlurmCommandResult> RunAsync(
        string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var executable = _options.CommandDirectory is null ? command : Path.Combine(_options.CommandDirectory, command);
        var startInfo = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in _options.Environment.Concat(environment ?? new Dictionary<string, string>()))
        {
            startInfo.Environment[name] = value;
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new LlamaMoeException(SlurmErrorCodes.CommandMissing, $"The Slurm command '{command}' could not be started: {ex.Message}.",
                key: command, advice: "Install the Slurm client (Debian: slurm-client) or set the backend's command directory; on a login node, load the Slurm module.", inner: ex);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new LlamaMoeException(SlurmErrorCodes.CommandFailed,
                $"'{command} {string.Join(' ', arguments)}' did not answer within {_options.CommandTimeout.TotalSeconds:0} s.",
                key: command, advice: "Check that slurmctld is reachable (sinfo, scontrol ping); raise the command timeout on a busy controller.");
        }

        return new SlurmCommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Runs <paramref name="command"/> and returns stdout; throws LMOE3451 with its stderr when it exits non-zero.</summary>
    public async Task<string> RunCheckedAsync(
        string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var result = await RunAsync(command, arguments, cancellationToken, environment).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new LlamaMoeException(SlurmErrorCodes.CommandFailed,
                $"'{command} {string.Join(' ', arguments)}' exited with code {result.ExitCode}: {FirstLine(result.StandardError)}",
                key: command, advice: "Read the Slurm message above; check partition, account and time limit, and that the controller answers (scontrol ping).");
        }

        return result.StandardOutput;
    }

    private static string FirstLine(string text)
    {
        var trimmed = text.Trim();
        var newline = trimmed.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? trimmed : trimmed[..newline];
    }
}
