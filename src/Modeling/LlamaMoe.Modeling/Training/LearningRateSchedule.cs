namespace LlamaMoe.Modeling.Training;

/// <summary>Linear warmup to the peak, then cosine decay to <c>peak · floorRatio</c> at the last step.</summary>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, int TotalSteps, double FloorRatio)
{
    /// <summary>
    /// The learning rate of 1-based optimizer step <paramref name="step"/>: <c>peak · step / warmup</c> during warmup,
    /// then <c>peak · (floor + (1 − floor) · ½(1 + cos(π · p)))</c> with <c>p = (step − warmup) / (total − warmup)</c>.
    /// </summary>
    public double At(int step)
    {
        if (step <= WarmupSteps && WarmupSteps > 0)
        {
            return Peak * step / WarmupSteps;
        }

        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return Peak * (FloorRatio + (1 - FloorRatio) * cosine);
    }
}
