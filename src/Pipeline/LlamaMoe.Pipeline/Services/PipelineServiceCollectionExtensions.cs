using LlamaMoe.Pipeline.Execution;
using LlamaMoe.Pipeline.Plugins;
using LlamaMoe.Pipeline.Splitting;
using LlamaMoe.Pipeline.Store;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaMoe.Pipeline.Services;

/// <summary>Registers the services a run offers to steps.</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>Registers everything for one pipeline run.</summary>
    public static IServiceCollection AddLlamaMoePipeline(this IServiceCollection services, LoadedPipeline pipeline, IPipelineRunObserver observer, Func<bool>? cudaAvailable = null) =>
        services
            .AddPipelineObserver(observer)
            .AddArtifactStore(pipeline.Definition.StoreDirectory)
            .AddDeviceSelection(pipeline.Definition.Device, cudaAvailable)
            .AddRandomSeeds(pipeline.Definition.Seed)
            .AddTokenizerCache()
            .AddMlpWeightSources(pipeline.Catalog);

    /// <summary>Registers the observer that receives progress and log lines (logging and progress).</summary>
    public static IServiceCollection AddPipelineObserver(this IServiceCollection services, IPipelineRunObserver observer) =>
        services.AddSingleton(observer);

    /// <summary>Registers the artifact store and its file digest memo.</summary>
    public static IServiceCollection AddArtifactStore(this IServiceCollection services, string storeDirectory) =>
        services.AddSingleton(_ => new ArtifactStore(storeDirectory))
            .AddSingleton(sp => new FileDigests(sp.GetRequiredService<ArtifactStore>().DigestMemoPath));

    /// <summary>Registers device selection: <c>auto</c> picks cuda when <paramref name="cudaAvailable"/> says so, else cpu.</summary>
    public static IServiceCollection AddDeviceSelection(this IServiceCollection services, string requested, Func<bool>? cudaAvailable = null) =>
        services.AddSingleton<IDeviceSelection>(new DeviceSelection(requested, cudaAvailable ?? (() => false)));

    /// <summary>Registers the seed source.</summary>
    public static IServiceCollection AddRandomSeeds(this IServiceCollection services, int seed) =>
        services.AddSingleton<ISeedSource>(new SeedSource(seed));

    /// <summary>Registers the keyed tokenizer cache.</summary>
    public static IServiceCollection AddTokenizerCache(this IServiceCollection services) =>
        services.AddSingleton<ITokenizerCache, TokenizerCache>();

    /// <summary>
    /// Registers every <see cref="IMlpWeightSource"/> and <see cref="ILayerStatisticsSource"/> exported by the composed
    /// assemblies (what <see cref="MlpSplitterStep{TOptions}"/> reads models and calibrations through).
    /// </summary>
    public static IServiceCollection AddMlpWeightSources(this IServiceCollection services, PluginCatalog catalog)
    {
        foreach (var source in catalog.WeightSources)
        {
            services.AddSingleton(source);
        }

        foreach (var source in catalog.StatisticsSources)
        {
            services.AddSingleton(source);
        }

        return services;
    }
}
