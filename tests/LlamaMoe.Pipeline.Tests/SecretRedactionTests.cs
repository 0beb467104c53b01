using LlamaMoe.Pipeline.Execution;
using NUnit.Framework;

namespace LlamaMoe.Pipeline.Tests;

public sealed class SecretRedactionTests
{
    private readonly List<string> variables = [];

    [TearDown]
    public void TearDown()
    {
        foreach (var name in variables)
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [TestCase("HF_TOKEN")]
    [TestCase("openai_api_key")]
    [TestCase("DB_Password")]
    [TestCase("SMTP_PASSWD")]
    [TestCase("MY_SECRET")]
    [TestCase("AWS_CREDENTIALS")]
    public async Task AnEnvValueWithASecretLookingNameNeverReachesTheLockFileOrManifestButStillChangesTheKey(string baseName)
    {
        var name = Variable(baseName, "s3cr3t-value-one");
        using var fixture = new PipelineFixture($$"""
            name: t
            stages:
              a: { uses: test/write, with: { text: "x${env:{{name}}}y" } }
            """);
        var first = await fixture.RunAsync();
        Assert.That(first["a"], Is.EqualTo(StageStatus.Ran));
        Assert.That(fixture.ReadArtifact("a", "out.txt"), Is.EqualTo("xs3cr3t-value-oney"), "the step gets the real value");
        var lockText = File.ReadAllText(fixture.Load().Definition.LockFilePath);
        Assert.That(lockText, Does.Not.Contain("s3cr3t-value-one"));
        Assert.That(lockText, Does.Contain("x***y"));
        Assert.That(File.ReadAllText(fixture.File("artifacts/t/a/artifact.json")), Does.Not.Contain("s3cr3t"));

        Assert.That((await fixture.RunAsync())["a"], Is.EqualTo(StageStatus.UpToDate));
        Environment.SetEnvironmentVariable(name, "s3cr3t-value-two");
        Assert.That((await fixture.RunAsync())["a"], Is.EqualTo(StageStatus.Ran), "a changed secret reruns the stage");
        Assert.That(File.ReadAllText(fixture.Load().Definition.LockFilePath), Does.Not.Contain("s3cr3t-value-two"));
    }

    [Test]
    public async Task TheSecretFormReadsTheEnvironmentAndIsRedactedWhateverTheName()
    {
        var name = Variable("PLAIN_NAME", "hunter2-hunter2");
        using var fixture = new PipelineFixture($$"""
            name: t
            stages:
              a: { uses: test/write, with: { text: "${secret:{{name}}}" } }
            """);
        await fixture.RunAsync();
        Assert.That(fixture.ReadArtifact("a", "out.txt"), Is.EqualTo("hunter2-hunter2"));
        Assert.That(File.ReadAllText(fixture.Load().Definition.LockFilePath), Does.Not.Contain("hunter2").And.Contain("***"));
    }

    [Test]
    public async Task AnOrdinaryEnvValueStaysVisible()
    {
        var name = Variable("DATA_DIR", "/data/corpus-folder");
        using var fixture = new PipelineFixture($$"""
            name: t
            stages:
              a: { uses: test/write, with: { text: "${env:{{name}}}" } }
            """);
        await fixture.RunAsync();
        Assert.That(File.ReadAllText(fixture.Load().Definition.LockFilePath), Does.Contain("/data/corpus-folder"));
    }

    [Test]
    public void ASecretInAnErrorMessageIsRedacted()
    {
        var name = Variable("API_TOKEN", "tok-not-a-number-42");
        using var fixture = new PipelineFixture($$"""
            name: t
            stages:
              a: { uses: test/write, with: { text: a, repeat: "${env:{{name}}}" } }
            """);
        var ex = Assert.Catch<Exception>(() => fixture.RunAsync().GetAwaiter().GetResult());
        Assert.That(ex!.ToString(), Does.Not.Contain("tok-not-a-number-42"));
        Assert.That(ex.ToString(), Does.Contain("***"), "the message names the value, redacted");
    }

    [Test]
    public void AMissingSecretIsACodedError()
    {
        using var fixture = new PipelineFixture("""
            name: t
            stages:
              a: { uses: test/write, with: { text: "${secret:LMOE_TEST_NEVER_SET_SECRET}" } }
            """);
        var ex = Assert.Catch<Exception>(() => fixture.RunAsync().GetAwaiter().GetResult());
        Assert.That(ex!.ToString(), Does.Contain("LMOE_TEST_NEVER_SET_SECRET"));
    }

    private string Variable(string baseName, string value)
    {
        var name = $"{baseName}_{Guid.NewGuid():N}"[..(baseName.Length + 9)];
        Environment.SetEnvironmentVariable(name, value);
        variables.Add(name);
        return name;
    }
}
