using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Evaluation;

public sealed class MmluScoringTests
{
    private static readonly MmluItem[] Items =
    [
        new("geography", "Capital of France?", ["Paris", "Rome", "Berlin", "Madrid"], 0),
        new("arithmetic", "2 + 2 = ?", ["4", "22", "5", "6"], 0),
        new("colours", "Colour of blood?", ["blue", "green", "red", "yellow"], 2),
    ];

    // Fixed log-probabilities of each continuation (answer-text style); bytes include the leading space.
    private static readonly Dictionary<string, double> LogProbabilities = new()
    {
        [" Paris"] = -2.7, [" Rome"] = -2.5, [" Berlin"] = -7.0, [" Madrid"] = -8.0,
        [" 4"] = -1.0, [" 22"] = -1.2, [" 5"] = -3.0, [" 6"] = -4.0,
        [" blue"] = -6.0, [" green"] = -5.0, [" red"] = -2.0, [" yellow"] = -9.0,
        [" A"] = -1.0, [" B"] = -0.5, [" C"] = -2.0, [" D"] = -3.0,
    };

    private static int[] Encode(string text) => text.Select(c => (int)c).ToArray();

    private static string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Select(i => (char)i));

    [Test]
    public void AnswerTextScoringMatchesTheHandComputation()
    {
        // Hand computation (acc = argmax of summed log-prob; acc_norm = argmax of log-prob / UTF-8 bytes of the continuation):
        // item 1 (gold Paris): raw  Paris −2.7, Rome −2.5 → Rome ✗;  norm Paris −2.7/6 = −0.450, Rome −2.5/5 = −0.500 → Paris ✓
        // item 2 (gold 4):     raw  4 −1.0 best → 4 ✓;                norm 4 −1.0/2 = −0.500, 22 −1.2/3 = −0.400 → 22 ✗
        // item 3 (gold red):   raw  red −2.0 best ✓;                  norm red −2.0/4 = −0.500 best ✓
        // acc = 2/3, acc_norm = 2/3, with different items right.
        var contexts = new List<string>();
        var questions = Items.Select(i => MmluPromptBuilder.Build(i, [], 0, MmluContinuationStyle.AnswerText)).ToList();

        var result = MultipleChoiceEvaluator.Evaluate(questions, Encode, (context, continuation) =>
        {
            contexts.Add(Decode(context));
            return (LogProbabilities[Decode(continuation)], false);
        });

        Assert.That(result.Accuracy, Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(result.NormalizedAccuracy, Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(result.Predictions, Is.EqualTo(new[] { (1, 0), (0, 1), (2, 2) }));
        Assert.That(contexts.Distinct().Count(), Is.EqualTo(3));
        Assert.That(contexts[0], Does.EndWith("Capital of France?\nA. Paris\nB. Rome\nC. Berlin\nD. Madrid\nAnswer:"));
    }

    [Test]
    public void LetterScoringGivesEqualAccAndAccNormAndUsesTheHarnessPromptLayout()
    {
        // Letters " A".." D" all have 2 bytes, so acc_norm = acc. B has the highest log-prob everywhere: only item... none has gold B → 0/3.
        var dev = new[] { new MmluItem("geography", "Largest ocean?", ["Atlantic", "Pacific", "Indian", "Arctic"], 1) };
        var question = MmluPromptBuilder.Build(Items[0], dev, 1, MmluContinuationStyle.Letter);
        Assert.That(question.Context, Is.EqualTo(
            "The following are multiple choice questions (with answers) about geography.\n\n" +
            "Largest ocean?\nA. Atlantic\nB. Pacific\nC. Indian\nD. Arctic\nAnswer: B\n\n" +
            "Capital of France?\nA. Paris\nB. Rome\nC. Berlin\nD. Madrid\nAnswer:"));
        Assert.That(question.Continuations, Is.EqualTo(new[] { " A", " B", " C", " D" }));

        var result = MultipleChoiceEvaluator.Evaluate(Items.Select(i => MmluPromptBuilder.Build(i, dev, 1, MmluContinuationStyle.Letter)).ToList(),
            Encode, (_, continuation) => (LogProbabilities[Decode(continuation)], false));

        Assert.That(result.Accuracy, Is.EqualTo(0));
        Assert.That(result.NormalizedAccuracy, Is.EqualTo(result.Accuracy));
    }

    [Test]
    public void CsvReaderHandlesHeaderIndexAnswersAndLetterAnswersWithQuotes()
    {
        using var dir = new TempDirectory();
        var indexed = dir.Combine("high_school_physics_test.csv");
        File.WriteAllText(indexed, "question,choice0,choice1,choice2,choice3,answer\n\"Q, with comma\",a,\"b \"\"quoted\"\"\",c,d,2\n");
        var lettered = dir.Combine("anatomy_dev.csv");
        File.WriteAllText(lettered, "\"multi\nline\",w,x,y,z,D\n");

        var first = MmluCsvReader.Read(indexed).Single();
        var second = MmluCsvReader.Read(lettered).Single();

        Assert.That((first.Subject, first.Question, first.Choices[1], first.Answer), Is.EqualTo(("high school physics", "Q, with comma", "b \"quoted\"", 2)));
        Assert.That((second.Subject, second.Question, second.Answer), Is.EqualTo(("anatomy", "multi\nline", 3)));

        File.WriteAllText(lettered, "q,a,b,c,d,A\nq2,a,b,c,d,E\n");
        var ex = Assert.Throws<LlamaMoeException>(() => MmluCsvReader.Read(lettered));
        Assert.That((ex!.Code, ex.Line), Is.EqualTo(("LMOE3004", 2)));
    }

    [Test]
    public void SharedMmluDevAndTestFilesReadCompletely()
    {
        var dev = Directory.GetFiles(Path.Combine(SharedData.Root, "mmlu", "dev"), "*.csv").Sum(f => MmluCsvReader.Read(f).Count);
        var test = Directory.GetFiles(Path.Combine(SharedData.Root, "mmlu", "test"), "*.csv").Sum(f => MmluCsvReader.Read(f).Count);
        Assert.That((dev, test), Is.EqualTo((285, 11936)));
    }
}
