using LlamaMoe.Modeling;
using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline;
using TorchSharp;

namespace LlamaMoe.Cli;

/// <summary>
/// Defers loading libtorch (and setting its thread count) until the first stale stage starts, so a run that finds
/// every stage up to date never loads the native runtime. A libtorch that cannot be loaded still fails with its
/// code and exit code 3, before the stage does any work.
/// </summary>
/// <param name="threads">The thread count to set once loaded; null = the runtime's default.</param>
internal sealed class NativeRuntimeOnFirstStage(int? threads)
{
    private bool prepared;

    /// <summary>Whether the runtime was prepared (a stage started).</summary>
    public bool Prepared => prepared;

    /// <summary>An observer that prepares the runtime on the first <see cref="IPipelineRunObserver.StageStarted"/>, then forwards to <paramref name="inner"/>.</summary>
    public IPipelineRunObserver Wrap(IPipelineRunObserver inner) => new Observer(this, inner);

    private void Prepare()
    {
        if (prepared)
        {
            return;
        }

        TorchRuntime.EnsureLoaded();
        if (threads is { } count)
        {
            torch.set_num_threads(count);
        }

        prepared = true;
    }

    private sealed class Observer(NativeRuntimeOnFirstStage runtime, IPipelineRunObserver inner) : IPipelineRunObserver
    {
        public void StageStarted(string stageId, string plugin, IReadOnlyList<string> reasons)
        {
            runtime.Prepare();
            inner.StageStarted(stageId, plugin, reasons);
        }

        public void StageProgress(string stageId, StepProgressUpdate update) => inner.StageProgress(stageId, update);

        public void StageLog(string stageId, bool warning, string message) => inner.StageLog(stageId, warning, message);

        public void StageFinished(StageOutcome outcome) => inner.StageFinished(outcome);
    }
}
