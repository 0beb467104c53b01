namespace LlamaMoe.Pipeline;

/// <summary>Log lines from a step, shown to the user with the stage id.</summary>
public interface IStepLog
{
    /// <summary>An informational line.</summary>
    void Info(string message);

    /// <summary>A warning line.</summary>
    void Warning(string message);
}
