using LlamaMoe.Modeling.MoeModel;

namespace LlamaMoe.Modeling.Conversion;

/// <summary>Settings of <see cref="MoeConverter"/> other than the per-layer plans.</summary>
/// <param name="TopK">Experts per token k.</param>
/// <param name="ScaleFactor">Scale factor of every MoE layer (v2: 4.0 for 8 experts top-2, 1.0 for the residual model; v1: E/k).</param>
/// <param name="Router">Router network, routing weights and noise written to the config.</param>
/// <param name="ContractFirst">Leading layers kept dense.</param>
/// <param name="ContractLast">Trailing layers kept dense.</param>
/// <param name="LayerScaleFactors">Per-MoE-layer scale factors (in MoE-layer order), overriding <paramref name="ScaleFactor"/>.</param>
/// <param name="MaxShardBytes">Largest output shard.</param>
/// <param name="Overwrite">Replace a non-empty output directory (otherwise LMOE2211).</param>
/// <param name="CopyCompanionFiles">Copy tokenizer files and generation_config.json from the dense directory.</param>
public sealed record MoeConversionOptions(
    int TopK,
    double ScaleFactor = 1.0,
    MoeRouterSpec? Router = null,
    int ContractFirst = 0,
    int ContractLast = 0,
    IReadOnlyList<double>? LayerScaleFactors = null,
    long MaxShardBytes = 5L << 30,
    bool Overwrite = false,
    bool CopyCompanionFiles = true)
{
    /// <summary>The MoE layer indices of a model with <paramref name="layers"/> layers (all but the contract layers).</summary>
    /// <exception cref="LlamaMoeException">LMOE2212 when the contract layers leave no MoE layer or are negative.</exception>
    public IReadOnlyList<int> MoeLayers(int layers)
    {
        if (ContractFirst < 0 || ContractLast < 0 || ContractFirst + ContractLast >= layers)
        {
            throw new LlamaMoeException(ConstructionErrorCodes.InvalidConversionOptions,
                $"contract layers (first {ContractFirst}, last {ContractLast}) must be non-negative and leave at least one of the {layers} layers as MoE",
                key: "contract_layers", advice: "Lower --contract-first / --contract-last.");
        }

        return Enumerable.Range(ContractFirst, layers - ContractFirst - ContractLast).ToArray();
    }
}
