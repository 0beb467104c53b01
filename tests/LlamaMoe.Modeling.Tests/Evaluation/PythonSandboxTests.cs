using System.Diagnostics;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Evaluation;

public sealed class PythonSandboxTests
{
    private static PythonSandbox Sandbox()
    {
        var sandbox = PythonSandbox.Probe(out var reason);
        if (sandbox is null)
        {
            Assert.Ignore(reason!);
        }

        return sandbox!;
    }

    [Test]
    public void CanonicalHumanEvalSolutionPassesAndAWrongOneFails()
    {
        var sandbox = Sandbox();
        var problem = CodeProblems.ReadHumanEval(SharedData.File("humaneval", "HumanEval_shared.jsonl"))[0];

        var good = sandbox.Run(problem.ProgramFor(problem.ReferenceCompletion), SandboxLimits.Default);
        var bad = sandbox.Run(problem.ProgramFor("    return False\n"), SandboxLimits.Default);

        Assert.That(good.Outcome, Is.EqualTo(SandboxOutcome.Passed), good.Stderr);
        Assert.That(bad.Outcome, Is.EqualTo(SandboxOutcome.Failed));
        Assert.That(bad.Stderr, Does.Contain("AssertionError"));
    }

    [Test]
    public void InfiniteLoopIsKilledAtTheTimeoutTogetherWithItsChildren()
    {
        var sandbox = Sandbox();
        var watch = Stopwatch.StartNew();
        var run = sandbox.Run("import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'while True: pass'])\nwhile True:\n    pass\n", new SandboxLimits(TimeSpan.FromSeconds(2)));

        Assert.That(run.Outcome, Is.EqualTo(SandboxOutcome.TimedOut));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
    }

    [Test]
    public void NetworkAccessFails()
    {
        var sandbox = Sandbox();
        var run = sandbox.Run("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\nprint('connected')\n", SandboxLimits.Default);

        Assert.That(run.Outcome, Is.EqualTo(SandboxOutcome.Failed));
        Assert.That(run.Stdout, Does.Not.Contain("connected"));
        Assert.That(run.Stderr, Does.Contain("OSError").Or.Contain("unreachable"));
    }

    [Test]
    public void ProgramRunsAsAnUnprivilegedUserThatCannotWriteOutsideItsFolder()
    {
        var sandbox = Sandbox();
        using var dir = new TempDirectory();
        var target = dir.Combine("escape.txt");
        var run = sandbox.Run($"import os\nprint(os.getuid())\nopen({System.Text.Json.JsonSerializer.Serialize(target)}, 'w').write('x')\n", SandboxLimits.Default);

        Assert.That(run.Outcome, Is.EqualTo(SandboxOutcome.Failed));
        Assert.That(run.Stdout.Trim(), Is.Not.EqualTo("0"));
        Assert.That(File.Exists(target), Is.False);
    }

    [Test]
    public void ProcessCountIsLimited()
    {
        var sandbox = Sandbox();
        var run = sandbox.Run(
            "import os, time\nchildren = 0\ntry:\n    for _ in range(200):\n        pid = os.fork()\n        if pid == 0:\n            time.sleep(5)\n            os._exit(0)\n        children += 1\nexcept OSError:\n    print('limited', children, flush=True)\n    os._exit(0)\nprint('unlimited', children, flush=True)\nos._exit(1)\n",
            new SandboxLimits(TimeSpan.FromSeconds(8), MaxProcesses: 16));

        Assert.That(run.Stdout, Does.StartWith("limited"), run.Stdout + run.Stderr);
    }

    [Test]
    public void MissingInterpreterMeansTheTaskIsSkipped()
    {
        var sandbox = PythonSandbox.Probe(out var reason, "/nonexistent/python3");
        var result = CodeEvaluator.Evaluate([], (_, _, _) => string.Empty, sandbox, reason);

        Assert.That(sandbox, Is.Null);
        Assert.That(result.PassAt1, Is.Null);
        Assert.That(result.Skipped, Does.StartWith("skipped: "));
    }

    [Test]
    public void CodeEvaluatorScoresPassAt1OverHumanEvalAndMbpp()
    {
        var sandbox = Sandbox();
        var humanEval = CodeProblems.ReadHumanEval(SharedData.File("humaneval", "HumanEval_shared.jsonl")).Take(3).ToList();
        var mbpp = CodeProblems.ReadMbpp(SharedData.File("mbpp", "mbpp_shared.jsonl")).Where(p => p.TaskId == "Mbpp/11" || p.TaskId == "Mbpp/12").ToList();
        var references = humanEval.Concat(mbpp).ToDictionary(p => p.Prompt, p => p.ReferenceCompletion);

        var good = CodeEvaluator.Evaluate(humanEval.Concat(mbpp).ToList(), (prompt, _, _) => references[prompt] + (prompt.EndsWith("[BEGIN]\n", StringComparison.Ordinal) ? "\n[DONE]\nmore text" : "\ndef trailing_junk("), sandbox, null);
        var bad = CodeEvaluator.Evaluate(mbpp, (_, _, _) => "def nothing():\n    pass\n", sandbox, null);

        Assert.That(good.PassAt1, Is.EqualTo(1.0), string.Join("; ", good.Outcomes));
        Assert.That(bad.PassAt1, Is.EqualTo(0.0));
    }
}
