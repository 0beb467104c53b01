using LlamaMoe.Modeling.Data;
using LlamaMoe.Modeling.Evaluation;
using LlamaMoe.Testing;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Evaluation;

public sealed class Gsm8kExtractionTests
{
    [TestCase("Janet sells 9 eggs.\nShe makes 9 * 2 = $<<9*2=18>>18.\n#### 18", "18")]
    [TestCase("... total\n#### 1,234", "1234")]
    [TestCase("#### -5", "-5")]
    [TestCase("no marker here", null)]
    public void ReferenceAnswersAreTheTextAfterTheMarker(string answer, string? expected) =>
        Assert.That(Gsm8kAnswerExtractor.ExtractReference(answer), Is.EqualTo(expected));

    [TestCase("So she makes 18 dollars.\n#### 18\n\nQuestion: next", "18")]
    [TestCase("First 3, then #### 42 and later #### 7", "42")]
    [TestCase("She has 3 apples, buys 4, so 7 apples in total.", "7")]
    [TestCase("The answer is $1,200.", "1200")]
    [TestCase("It costs $18.50.", "18.50")]
    [TestCase("He ends with -3 degrees", "-3")]
    [TestCase("#### $1,000.", "1000")]
    [TestCase("I do not know.", null)]
    public void PredictionsUseTheFirstMarkerOrElseTheLastNumber(string generation, string? expected) =>
        Assert.That(Gsm8kAnswerExtractor.ExtractPrediction(generation), Is.EqualTo(expected));

    [Test]
    public void EvaluatorBuildsKShotPromptsAndScoresExactMatch()
    {
        var shots = new[] { new Gsm8kProblem("1+1?", "1+1=2\n#### 2", "train", 1) };
        var problems = new[] { new Gsm8kProblem("2+3?", "#### 5", "test", 1), new Gsm8kProblem("10*10?", "#### 100", "test", 2) };
        var prompts = new List<string>();

        var result = Gsm8kEvaluator.Evaluate(problems, shots, 1, (prompt, _, _) =>
        {
            prompts.Add(prompt);
            return prompt.Contains("2+3?", StringComparison.Ordinal) ? " 2+3=5\n#### 5\n\nQuestion: 9?" : " it is 1,000";
        });

        Assert.That(prompts[0], Is.EqualTo("Question: 1+1?\nAnswer: 1+1=2\n#### 2\n\nQuestion: 2+3?\nAnswer:"));
        Assert.That(result.ExactMatch, Is.EqualTo(0.5));
        Assert.That(result.Samples[0].Generation, Does.Not.Contain("Question:"));
        Assert.That(result.Samples[1].Predicted, Is.EqualTo("1000"));
    }

    [Test]
    public void EveryReferenceOfTheSharedTestSetHasAnAnswer()
    {
        var problems = Gsm8kJsonlReader.ReadProblems(SharedData.File("gsm8k", "test_shared.jsonl"));
        Assert.That(problems.All(p => Gsm8kAnswerExtractor.ExtractReference(p.Answer) is { Length: > 0 }), Is.True);
        Assert.That(Gsm8kAnswerExtractor.ExtractReference(problems[0].Answer), Is.EqualTo("18"));
    }
}
