using System.Reflection;
using LlamaMoe.Pipeline.Conformance;
using LlamaMoe.Plugins.Import;
using LlamaMoe.Testing;
using NUnit.Framework;
using static LlamaMoe.Plugins.Tests.PluginFixtures;

namespace LlamaMoe.Plugins.Tests.Import;

[TestFixture]
public sealed class ImportStepConformanceTests : StepConformanceTests
{
    protected override string PluginName => "import";

    protected override Assembly PluginAssembly => typeof(ImportStep).Assembly;

    protected override string ValidOptions => $"{{ source: {Quote(SharedData.Stories260KBin)}, tokenizer: {Quote(SharedData.Tok512Model)} }}";

    protected override IEnumerable<BadOptionsCase> BadOptions =>
    [
        new("{ tokenizer: x.model }", "LMOE0051"),
        new("{ source: no-such-file.bin }", "LMOE0056"),
        new($"{{ source: {Quote(SharedData.Stories260KBin)}, shards: 2 }}", "LMOE0050"),
    ];
}
