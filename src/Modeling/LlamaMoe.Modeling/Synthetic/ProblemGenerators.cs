namespace LlamaMoe.Modeling.Synthetic;

/// <summary>Generates the math (word problems) and code (tiny programs) domains from a seeded random source.</summary>
public static class ProblemGenerators
{
    private static readonly string[] Objects = ["apples", "pens", "stones", "cards", "shells", "coins", "eggs", "balls"];
    private static readonly string[] Names = ["Tom", "Mia", "Sam", "Lily", "Ben", "Zoe", "Max", "Ava"];
    private static readonly string[] Variables = ["a", "b", "x", "y", "n", "m"];

    /// <summary>One arithmetic word problem: addition, subtraction or multiplication of small numbers.</summary>
    public static SyntheticExample MathProblem(Random random)
    {
        var name = Names[random.Next(Names.Length)];
        var thing = Objects[random.Next(Objects.Length)];
        var kind = random.Next(3);
        var a = random.Next(2, 10);
        var b = random.Next(1, 10);
        return kind switch
        {
            0 => new SyntheticExample(
                SyntheticDomain.Math,
                $"{name} has {a} {thing}. {name} gets {b} more. How many {thing} does {name} have now?",
                $"{name} has {a} + {b} = {a + b} {thing}. #### {a + b}",
                a + b),
            1 => Subtraction(name, thing, Math.Max(a, b), Math.Min(a, b)),
            _ => new SyntheticExample(
                SyntheticDomain.Math,
                $"{name} has {a} bags with {b} {thing} in each bag. How many {thing} does {name} have?",
                $"{name} has {a} * {b} = {a * b} {thing}. #### {a * b}",
                a * b),
        };
    }

    /// <summary>One short program whose printed number is asked for.</summary>
    public static SyntheticExample CodeProblem(Random random)
    {
        var first = Variables[random.Next(Variables.Length)];
        string second;
        do
        {
            second = Variables[random.Next(Variables.Length)];
        }
        while (second == first);

        var a = random.Next(1, 10);
        var b = random.Next(1, 10);
        var op = random.Next(3);
        var (symbol, value) = op switch
        {
            0 => ("+", a + b),
            1 => ("-", a - b),
            _ => ("*", a * b),
        };
        var program = $"{first} = {a}\n{second} = {first} {symbol} {b}\nprint({second})";
        return new SyntheticExample(
            SyntheticDomain.Code,
            $"What does this program print?\n{program}",
            $"{first} is {a}, so {second} is {a} {symbol} {b} = {value}. #### {value}",
            value);
    }

    private static SyntheticExample Subtraction(string name, string thing, int a, int b) => new(
        SyntheticDomain.Math,
        $"{name} has {a} {thing}. {name} gives away {b}. How many {thing} does {name} have left?",
        $"{name} has {a} - {b} = {a - b} {thing} left. #### {a - b}",
        a - b);
}
