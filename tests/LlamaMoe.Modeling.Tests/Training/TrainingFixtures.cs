using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Training;

namespace LlamaMoe.Modeling.Tests.Training;

/// <summary>Synthetic learnable data for trainer tests: arithmetic sequences modulo the vocabulary.</summary>
public static class TrainingFixtures
{
    public static TrainingData Data(int examples = 24, int vocabulary = 32, int sequenceLength = 24, bool pack = true, long seed = 3)
    {
        var random = new DeterministicRandom((ulong)seed);
        var encoded = Enumerable.Range(0, examples).Select(_ =>
        {
            var length = 5 + random.NextInt(8);
            var start = random.NextInt(vocabulary);
            var stride = 1 + random.NextInt(3);
            return EncodedExample.AllTargets(Enumerable.Range(0, length).Select(i => (start + i * stride) % vocabulary).ToArray());
        }).ToList();
        return new TrainingData(SequencePacker.Build(encoded, new PackingOptions(sequenceLength, pack)), pack);
    }
}
