using LlamaMoe.Plugins.Training.External;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Training.External;

[TestFixture]
public sealed class SlurmOutputTailTests
{
    private TempDirectory _temp = null!;

    [SetUp]
    public void CreateTemp() => _temp = new TempDirectory("lmoe-slurm-tail");

    [TearDown]
    public void DeleteTemp() => _temp.Dispose();

    [Test]
    public void ALineIsReadOnceAndOnlyAfterItsNewlineIsWritten()
    {
        var tail = new SlurmOutputTail(_temp.Path, null);
        var progress = _temp.Combine("progress.jsonl");
        File.WriteAllText(progress, """{"v":1,"step":1,"max_steps":3,"loss":2.5}""" + "\n" + """{"v":1,"step":2,"max_st""");

        Assert.That(tail.ReadNew().Select(u => u.Progress!.Step), Is.EqualTo(new long[] { 1 }));
        Assert.That(tail.ReadNew(), Is.Empty);

        File.AppendAllText(progress, "eps\":3,\"loss\":1.5}\n");
        var second = tail.ReadNew().Single().Progress!;
        Assert.That(second.Step, Is.EqualTo(2));
        Assert.That(second.MaxSteps, Is.EqualTo(3));
        Assert.That(second.Loss, Is.EqualTo(1.5));
    }

    [Test]
    public void EventsAreReadWithStepFromStepCodeAndMessageAndMalformedLinesAreSkipped()
    {
        File.WriteAllText(_temp.Combine("events.jsonl"),
            """{"v":1,"event":"resume","from_step":4,"step":4}""" + "\nnot json\n[1,2]\n" +
            """{"v":1,"event":"error","step":5,"code":"LMOE3423","message":"CUDA out of memory"}""" + "\n");
        var tail = new SlurmOutputTail(_temp.Path, null);

        var events = tail.ReadNew().Select(u => u.Event).ToList();

        Assert.That(events, Is.EqualTo(new[]
        {
            new ExternalTrainingEvent("resume", 4, 4, null, null),
            new ExternalTrainingEvent("error", 5, null, "LMOE3423", "CUDA out of memory"),
        }));
    }

    [Test]
    public void ProgressComesFromLmoeProgressLogLinesWhileThereIsNoProgressJsonl()
    {
        var log = _temp.Combine("slurm-7.log");
        File.WriteAllText(log, "starting\nLMOE_PROGRESS {\"v\":1,\"step\":3,\"max_steps\":9,\"tok_s_gpu\":1234.5,\"mfu\":0.41}\nstep done\n");
        var tail = new SlurmOutputTail(_temp.Combine("run-not-mounted"), log);

        var progress = tail.ReadNew().Single().Progress!;

        Assert.That(progress.Step, Is.EqualTo(3));
        Assert.That(progress.TokensPerSecondPerGpu, Is.EqualTo(1234.5));
        Assert.That(progress.Mfu, Is.EqualTo(0.41));
    }

    [TestCase("""{"status":"done","final_step":12,"files":{}}""", 12L)]
    [TestCase("""{"status":"done","files":{}}""", -1L)]
    [TestCase("""{"status":"failed","final_step":12}""", null)]
    [TestCase("""{"status":"do""", null)]
    public void DoneJsonCountsOnlyWithStatusDone(string text, long? expected)
    {
        File.WriteAllText(_temp.Combine("DONE.json"), text);

        Assert.That(new SlurmOutputTail(_temp.Path, null).ReadDoneFinalStep(), Is.EqualTo(expected));
    }

    [Test]
    public void NoDoneJsonIsNoFinalStep() => Assert.That(new SlurmOutputTail(_temp.Path, null).ReadDoneFinalStep(), Is.Null);
}
