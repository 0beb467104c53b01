using System.Text.Json;
using LlamaMoe.Modeling.Synthetic;
using LlamaMoe.Testing;
using Microsoft.ML.Tokenizers;
using NUnit.Framework;

namespace LlamaMoe.Modeling.Tests.Synthetic;

public sealed class SyntheticCorpusTests
{
    [Test]
    public void SameSeedWritesByteIdenticalFilesAndOtherSeedDiffers()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        var options = new SyntheticCorpusOptions(Seed: 3, TrainExamplesPerDomain: 100, EvalExamplesPerDomain: 20);
        SyntheticCorpusGenerator.Write(a.Path, options);
        SyntheticCorpusGenerator.Write(b.Path, options);
        SyntheticCorpusGenerator.Write(c.Path, options with { Seed = 4 });
        foreach (var name in SyntheticCorpusGenerator.FileNames)
        {
            Assert.That(File.ReadAllBytes(b.Combine(name)), Is.EqualTo(File.ReadAllBytes(a.Combine(name))), name);
        }

        Assert.That(File.ReadAllText(c.Combine("corpus.txt")), Is.Not.EqualTo(File.ReadAllText(a.Combine("corpus.txt"))));
    }

    [Test]
    public void EvaluationQuestionsNeverAppearInTrainingFiles()
    {
        using var dir = new TempDirectory();
        var summary = SyntheticCorpusGenerator.Write(dir.Path, new SyntheticCorpusOptions(Seed: 1, TrainExamplesPerDomain: 200, EvalExamplesPerDomain: 30));
        var training = File.ReadAllText(dir.Combine("corpus.txt")) + File.ReadAllText(dir.Combine("general.jsonl")) + File.ReadAllText(dir.Combine("mathcode.jsonl"));
        var evalCount = 0;
        foreach (var file in new[] { "eval-conversation.jsonl", "eval-math.jsonl", "eval-code.jsonl" })
        {
            foreach (var line in File.ReadLines(dir.Combine(file)).Where(l => l.Length > 0))
            {
                using var doc = JsonDocument.Parse(line);
                var question = doc.RootElement.GetProperty("question").GetString()!;
                Assert.That(training, Does.Not.Contain(JsonSerializer.Serialize(question).Trim('"')), question);
                Assert.That(training, Does.Not.Contain("Question: " + question + "\n"), question);
                evalCount++;
            }
        }

        Assert.That(evalCount, Is.EqualTo(summary.EvalConversation + summary.EvalMath + summary.EvalCode));
        Assert.That(summary.EvalMath, Is.EqualTo(30));
    }

    [Test]
    public void ChatTurnsUseTheQuestionAnswerLayoutOfTheCorpusAndTheEvaluationPrompt()
    {
        using var dir = new TempDirectory();
        SyntheticCorpusGenerator.Write(dir.Path, new SyntheticCorpusOptions(TrainExamplesPerDomain: 40, EvalExamplesPerDomain: 5));
        foreach (var file in new[] { "general.jsonl", "mathcode.jsonl" })
        {
            foreach (var line in File.ReadLines(dir.Combine(file)).Where(l => l.Length > 0))
            {
                using var doc = JsonDocument.Parse(line);
                var messages = doc.RootElement.GetProperty("messages");
                Assert.That(messages[0].GetProperty("content").GetString(), Does.StartWith("Question: "), line);
                Assert.That(messages[1].GetProperty("content").GetString(), Does.StartWith("Answer: ").And.Contain(" #### "), line);
            }
        }

        var mathText = File.ReadAllText(dir.Combine("text-math.txt"));
        foreach (var line in File.ReadLines(dir.Combine("eval-math.jsonl")).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            Assert.That(mathText, Does.Contain("Question: " + doc.RootElement.GetProperty("question").GetString() + "\nAnswer: "));
        }
    }

    [Test]
    public void TrainedSentencePieceModelLoadsAndRoundTripsText()
    {
        using var dir = new TempDirectory();
        SyntheticCorpusGenerator.Write(dir.Path, new SyntheticCorpusOptions(TrainExamplesPerDomain: 100, EvalExamplesPerDomain: 10));
        var corpus = File.ReadAllText(dir.Combine("corpus.txt"));
        var model = SentencePieceBpeTrainer.Train([corpus], vocabSize: 256);
        using var stream = new MemoryStream(model);
        var tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        const string text = "Question: How many cats does Tom have?\nAnswer: Tom has 3 cats. #### 3";
        var ids = tokenizer.EncodeToIds(text);
        Assert.That(tokenizer.Decode(ids), Is.EqualTo(text));
        Assert.That(ids.Count, Is.LessThan(text.Length / 2), "merges should shorten the sequence well below one id per character");
        Assert.That(tokenizer.Vocabulary.Count, Is.EqualTo(256));
    }
}
