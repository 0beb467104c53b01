using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Plugins.Evaluation;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Plugins.Tests.Evaluation;

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

    [Test]
    public void FilesWrittenToTmpAndDevShmAreInvisibleToTheHostAndCappedInTotal()
    {
        var sandbox = Sandbox();
        var name = "llamamoe-escape-" + Guid.NewGuid().ToString("N");
        var program = $"""
            import os
            for folder in ('/tmp', '/dev/shm'):
                with open(os.path.join(folder, '{name}'), 'w') as f:
                    f.write('x')
            print('wrote', flush=True)
            chunk = b'x' * (1 << 20)
            try:
                for i in range(4):
                    with open('/tmp/fill%d' % i, 'wb') as f:
                        f.write(chunk * 3)
                print('unlimited')
            except OSError as e:
                print('full', e.errno)
            """;
        var run = sandbox.Run(program, new SandboxLimits(TimeSpan.FromSeconds(10), FileSizeBytes: 4L << 20, TempBytes: 8L << 20));

        Assert.That(run.Stdout, Does.Contain("wrote").And.Contain("full 28"), run.Stdout + run.Stderr);
        Assert.That(File.Exists(Path.Combine("/tmp", name)), Is.False);
        Assert.That(File.Exists(Path.Combine("/dev/shm", name)), Is.False);
    }

    [Test]
    public void HostFilesLikeEtcPasswdAndTheRepositorySourceCannotBeRead()
    {
        var sandbox = Sandbox();
        var source = ThisSourceFile();
        Assume.That(File.Exists(source), "the test's source file is present on this machine");
        var program = $"""
            import os
            for path in ('/etc/passwd', {JsonSerializer.Serialize(source)}, '/root', '/home'):
                try:
                    if os.path.isdir(path):
                        os.listdir(path)
                    else:
                        open(path).read()
                    print('read', path)
                except OSError as e:
                    print('refused', path, e.errno)
            print(sorted(os.listdir('/')))
            """;
        var run = sandbox.Run(program, SandboxLimits.Default);

        Assert.That(run.Outcome, Is.EqualTo(SandboxOutcome.Passed), run.Stderr);
        Assert.That(run.Stdout, Does.Not.Contain("read "));
        Assert.That(run.Stdout, Does.Contain("refused /etc/passwd").And.Contain("refused " + source));
        Assert.That(run.Stdout, Does.Not.Contain("'etc'").And.Not.Contain("'home'").And.Not.Contain("'root'"));
    }

    [Test]
    public void ProcShowsOnlyTheSandboxesOwnProcesses()
    {
        var sandbox = Sandbox();
        var run = sandbox.Run("import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), os.getpid())\n", SandboxLimits.Default);

        Assert.That(run.Outcome, Is.EqualTo(SandboxOutcome.Passed), run.Stderr);
        Assert.That(run.Stdout.Trim(), Is.EqualTo("[1] 1"));
    }

    [TestCase(false)]
    [TestCase(true)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void AHostUnixSocketCannotBeReached(bool abstractName)
    {
        var sandbox = Sandbox();
        using var dir = new TempDirectory();
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_111_111);
        var path = abstractName ? "\0llamamoe-test-" + Guid.NewGuid().ToString("N") : dir.Combine("host.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        if (!abstractName)
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_111_111);
        }

        var program = $"""
            import socket
            s = socket.socket(socket.AF_UNIX)
            s.connect({JsonSerializer.Serialize(path)})
            print('connected')
            """;
        var run = sandbox.Run(program, SandboxLimits.Default);

        Assert.That(run.Outcome, Is.EqualTo(SandboxOutcome.Failed));
        Assert.That(run.Stdout, Does.Not.Contain("connected"));
        Assert.That(run.Stderr, Does.Contain("FileNotFoundError").Or.Contain("PermissionError").Or.Contain("ConnectionRefusedError"));
        Assert.That(listener.Poll(0, SelectMode.SelectRead), Is.False, "nothing connected to the host socket");
    }

    [TestCase("import os\nos._exit(0)\nassert False\n")]
    [TestCase("import sys\nsys.exit(0)\nassert False\n")]
    [TestCase("import atexit, os\natexit.register(lambda: os._exit(0))\nraise SystemExit(0)\nassert False\n")]
    [TestCase("print('LLAMAMOE-SANDBOX-COMPLETE 00000000000000000000000000000000')\nimport os\nos._exit(0)\n")]
    public void ExitingWithCodeZeroBeforeTheEndOfTheProgramFails(string program)
    {
        var sandbox = Sandbox();
        var run = sandbox.Run(program, SandboxLimits.Default);

        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Outcome, Is.EqualTo(SandboxOutcome.Failed));
    }

    [Test]
    public void KillingTheParentWithSigkillKillsTheSandboxedProgram()
    {
        var sandbox = Sandbox();
        using var prepared = sandbox.Prepare("import time\nprint('started', flush=True)\ntime.sleep(120)\n", new SandboxLimits(TimeSpan.FromSeconds(120)));
        var inner = prepared.StartInfo;
        var info = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false, WorkingDirectory = inner.WorkingDirectory };
        foreach (var argument in (string[])["-c", "\"$@\" & wait", "sh", inner.FileName, .. inner.ArgumentList])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        foreach (var (key, value) in inner.Environment)
        {
            info.Environment[key] = value;
        }

        using var parent = Process.Start(info)!;
        var started = parent.StandardOutput.ReadLineAsync();
        Assert.That(started.Wait(TimeSpan.FromSeconds(30)) && started.Result == "started", Is.True, "the sandboxed program started");
        var descendants = ProcessTree.Descendants(parent.Id);
        Assert.That(descendants, Is.Not.Empty);

        ProcessTree.KillHard(parent.Id);
        parent.WaitForExit();

        Assert.That(ProcessTree.WaitUntilGone(descendants, TimeSpan.FromSeconds(15)), Is.True, "every process of the sandbox died with its parent");
    }

    private static string ThisSourceFile([CallerFilePath] string path = "") => path;
}
