namespace LlamaMoe.Modeling.Synthetic;

/// <summary>
/// A small generated world of people with an age, a number of cats, a number of books and a town.
/// Its facts are the pre-training text of the conversation domain; questions about them are the instructions.
/// </summary>
public sealed class SyntheticWorld
{
    private static readonly string[] Names =
    [
        "Tom", "Mia", "Sam", "Lily", "Ben", "Zoe", "Max", "Ava", "Leo", "Ella", "Jack", "Ruby", "Noah", "Lucy", "Finn", "Rosa",
        "Owen", "Nora", "Eli", "Ivy", "Hugo", "Jade", "Luke", "Cara", "Adam", "Beth", "Carl", "Dina", "Evan", "Fay", "Gus", "Hana",
        "Ian", "Joy", "Kai", "Lea", "Milo", "Nia", "Otto", "Pia", "Ray", "Sara", "Ted", "Uma", "Vic", "Wren", "Yuri", "Zara",
        "Abe", "Bea", "Cole", "Dot", "Ezra", "Flo", "Gil", "Hope", "Ike", "June", "Kit", "Liv", "Ned", "Ola", "Pat", "Quin",
    ];

    private static readonly string[] Towns = ["Oakton", "Riverby", "Hillford", "Lakeside", "Stonebridge", "Maplewood"];

    /// <summary>Generates the world from a seeded random source.</summary>
    public SyntheticWorld(Random random, int people)
    {
        People = Names.Take(people)
            .Select(name => new SyntheticPerson(name, random.Next(5, 10), random.Next(0, 10), random.Next(1, 10), Towns[random.Next(Towns.Length)]))
            .ToList();
    }

    /// <summary>The people of the world.</summary>
    public IReadOnlyList<SyntheticPerson> People { get; }

    /// <summary>
    /// One paragraph of facts per person: one sentence per fact, in an order drawn from <paramref name="random"/>, so
    /// repeated paragraphs state the same facts in different orders (knowledge augmentation: a small model learns to
    /// answer questions about a fact it has only read when the fact is not tied to one fixed context).
    /// </summary>
    public IEnumerable<string> FactParagraphs(Random random) => People.Select(p =>
    {
        var sentences = new List<string>
        {
            $"{p.Name} lives in {p.Town}.",
            $"{p.Name} is {p.Age} years old.",
            $"{p.Name} has {p.Cats} {Plural(p.Cats, "cat")}.",
            $"{p.Name} has {p.Books} {Plural(p.Books, "book")}.",
        };
        SyntheticCorpusGenerator.ShuffleInPlace(sentences, random);
        return string.Join(" ", sentences);
    });

    /// <summary>Every question the world can answer, one per (person, attribute).</summary>
    public IEnumerable<SyntheticExample> AllQuestions()
    {
        foreach (var p in People)
        {
            yield return Make($"How old is {p.Name}?", $"{p.Name} is {p.Age} years old.", p.Age);
            yield return Make($"How many cats does {p.Name} have?", $"{p.Name} has {p.Cats} {Plural(p.Cats, "cat")}.", p.Cats);
            yield return Make($"How many books does {p.Name} have?", $"{p.Name} has {p.Books} {Plural(p.Books, "book")}.", p.Books);
            var total = p.Cats + p.Books;
            yield return Make(
                $"How many cats and books does {p.Name} have together?",
                $"{p.Name} has {p.Cats} {Plural(p.Cats, "cat")} and {p.Books} {Plural(p.Books, "book")}, so {p.Cats} + {p.Books} = {total}.",
                total);
        }
    }

    /// <summary>"cat" or "cats".</summary>
    public static string Plural(int count, string noun) => count == 1 ? noun : noun + "s";

    private static SyntheticExample Make(string question, string reasoning, int answer) =>
        new(SyntheticDomain.Conversation, question, $"{reasoning} #### {answer}", answer);
}

/// <summary>A person of the synthetic world.</summary>
/// <param name="Name">First name, unique in the world.</param>
/// <param name="Age">Age in years.</param>
/// <param name="Cats">Number of cats.</param>
/// <param name="Books">Number of books.</param>
/// <param name="Town">Home town.</param>
public sealed record SyntheticPerson(string Name, int Age, int Cats, int Books, string Town);
