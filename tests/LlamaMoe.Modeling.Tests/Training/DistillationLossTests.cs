using LlamaMoe.Modeling.Training;
using NUnit.Framework;
using TorchSharp;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Tests.Training;

public sealed class DistillationLossTests
{
    [SetUp]
    public void SingleThread()
    {
        TorchRuntime.EnsureLoaded();
        set_num_threads(1);
    }

    /// <summary>T²·Σ_n Σ_v p_t log(p_t / p_s) in doubles, straight from the definition.</summary>
    private static double HandKl(double[,] student, double[,] teacher, double temperature)
    {
        double total = 0;
        for (var n = 0; n < student.GetLength(0); n++)
        {
            var ps = Softmax(student, n, temperature);
            var pt = Softmax(teacher, n, temperature);
            total += pt.Select((p, v) => p * Math.Log(p / ps[v])).Sum();
        }

        return total * temperature * temperature;
    }

    private static double[] Softmax(double[,] logits, int row, double temperature)
    {
        var values = Enumerable.Range(0, logits.GetLength(1)).Select(v => logits[row, v] / temperature).ToArray();
        var max = values.Max();
        var exps = values.Select(x => Math.Exp(x - max)).ToArray();
        var sum = exps.Sum();
        return exps.Select(e => e / sum).ToArray();
    }

    private static double[,] RandomLogits(int rows, int vocabulary, int seed)
    {
        var random = new Random(seed);
        var logits = new double[rows, vocabulary];
        for (var n = 0; n < rows; n++)
        {
            for (var v = 0; v < vocabulary; v++)
            {
                logits[n, v] = (random.NextDouble() * 6) - 3;
            }
        }

        return logits;
    }

    private static Tensor ToTensor(double[,] values) =>
        tensor(values.Cast<double>().ToArray(), [values.GetLength(0), values.GetLength(1)], ScalarType.Float64);

    [TestCase(1.0)]
    [TestCase(2.5)]
    public void TheKlAndItsGradientMatchAHandComputationAndFiniteDifferences(double temperature)
    {
        var student = RandomLogits(3, 7, 1);
        var teacher = RandomLogits(3, 7, 2);
        using var scope = NewDisposeScope();

        var (klSum, gradient) = DistillationLoss.SumAndGradient(ToTensor(student), ToTensor(teacher), temperature, chunkPositions: 2);

        Assert.That(klSum.item<float>(), Is.EqualTo(HandKl(student, teacher, temperature)).Within(1e-5));
        Assert.That(klSum.item<float>(), Is.GreaterThan(0.01));
        var analytic = gradient.data<double>().ToArray();
        const double step = 1e-6;
        for (var n = 0; n < 3; n++)
        {
            for (var v = 0; v < 7; v++)
            {
                var plus = (double[,])student.Clone();
                var minus = (double[,])student.Clone();
                plus[n, v] += step;
                minus[n, v] -= step;
                var numeric = (HandKl(plus, teacher, temperature) - HandKl(minus, teacher, temperature)) / (2 * step);
                Assert.That(analytic[(n * 7) + v], Is.EqualTo(numeric).Within(1e-5), $"d KL / d z[{n},{v}]");
            }
        }
    }

    [Test]
    public void TheSurrogateBackPropagatesTheGradientOfTheWeightedKlThroughATinyModel()
    {
        var data = TrainingFixtures.Data(examples: 6);
        var rows = data.Rows.Take(2).ToList();
        using var student = new TinyMoeLanguageModel();
        using var teacher = new TinyMoeLanguageModel(seed: 99);
        using var scope = NewDisposeScope();
        using var batch = LlamaMoe.Modeling.Data.BatchCollator.Collate(rows, data.Packed, student.Device);
        var mask = batch.TargetMask.reshape(-1).to_type(ScalarType.Bool);
        var supervised = mask.sum().item<long>();
        var settings = new DistillationSettings(Weight: 0.7, Temperature: 2.0, ChunkPositions: 5);
        Tensor teacherLogits;
        using (no_grad())
        {
            teacherLogits = teacher.Forward(batch.InputIds, batch.PositionIds, batch.AttentionMask);
        }

        var logits = student.Forward(batch.InputIds, batch.PositionIds, batch.AttentionMask); // (B, T, V)
        var (surrogate, klSum) = DistillationLoss.ForBatch(logits, teacherLogits, batch.TargetMask, settings, settings.Weight / supervised);
        surrogate.backward();
        var viaSurrogate = student.parameters().Select(p => p.grad!.clone()).ToList();
        foreach (var p in student.parameters())
        {
            p.grad!.zero_();
        }

        // The same loss written directly with autograd: w · T² · mean over supervised positions of KL(p_t ‖ p_s).
        var vocabulary = logits.shape[2];
        var logStudent = nn.functional.log_softmax(student.Forward(batch.InputIds, batch.PositionIds, batch.AttentionMask).reshape(-1, vocabulary) / 2.0, dim: 1); // (B·T, V)
        var logTeacher = nn.functional.log_softmax(teacherLogits.reshape(-1, vocabulary) / 2.0, dim: 1); // (B·T, V)
        var perPosition = (logTeacher.exp() * (logTeacher - logStudent)).sum(1); // (B·T)
        var direct = (perPosition * mask).sum() * (4.0 * 0.7 / supervised);
        direct.backward();

        Assert.That(klSum.item<float>() * 0.7 / supervised, Is.EqualTo(direct.item<float>()).Within(1e-5));
        var pairs = viaSurrogate.Zip(student.parameters().Select(p => p.grad!)).ToList();
        Assert.That(pairs.Max(p => (p.First - p.Second).abs().max().item<float>()), Is.LessThan(1e-6));
        Assert.That(pairs.Max(p => p.Second.abs().max().item<float>()), Is.GreaterThan(1e-4));
    }

    [Test]
    public void ChunkedAndUnchunkedComputationsAgree()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var student = randn(37, 50); // (N, V)
        var teacher = randn(37, 50); // (N, V)

        var (whole, wholeGradient) = DistillationLoss.SumAndGradient(student, teacher, 1.5, chunkPositions: 37);
        var (chunked, chunkedGradient) = DistillationLoss.SumAndGradient(student, teacher, 1.5, chunkPositions: 4);

        Assert.That(chunked.item<float>(), Is.EqualTo(whole.item<float>()).Within(1e-4));
        Assert.That((chunkedGradient - wholeGradient).abs().max().item<float>(), Is.LessThan(1e-7));
    }
}
