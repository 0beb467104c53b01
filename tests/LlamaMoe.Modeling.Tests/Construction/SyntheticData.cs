namespace LlamaMoe.Modeling.Tests.Construction;

/// <summary>Seeded synthetic inputs for the split algorithms.</summary>
internal static class SyntheticData
{
    /// <summary>Row-major (n, d) points around <paramref name="groups"/> well separated centres, centre of point i = i mod groups.</summary>
    public static float[] Rows(int n, int d, int groups, long seed, double spread = 0.3)
    {
        var random = new Random((int)seed);
        var centres = Enumerable.Range(0, groups * d).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
        var rows = new float[n * d];
        for (var i = 0; i < n; i++)
        {
            for (var k = 0; k < d; k++)
            {
                rows[(i * d) + k] = centres[((i % groups) * d) + k] + (float)((random.NextDouble() - 0.5) * 2 * spread);
            }
        }

        return rows;
    }

    /// <summary>Symmetric (n, n) weights: strong (≈1) inside planted groups (i mod groups), weak (≈0.05) across.</summary>
    public static float[] Coactivation(int n, int groups, long seed)
    {
        var random = new Random((int)seed + 17);
        var matrix = new float[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var w = (float)((i % groups == j % groups ? 0.8 : 0.0) + random.NextDouble() * 0.1);
                matrix[(i * n) + j] = w;
                matrix[(j * n) + i] = w;
            }
        }

        return matrix;
    }

    /// <summary>Random importance scores, one array of n per cluster.</summary>
    public static float[][] Importance(int clusters, int neurons, long seed)
    {
        var random = new Random((int)seed + 29);
        return Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, neurons).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
    }
}
