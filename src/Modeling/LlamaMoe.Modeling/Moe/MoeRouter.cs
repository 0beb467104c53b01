using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LlamaMoe.Modeling.Moe;

/// <summary>
/// The router (<c>gate</c>) of a <see cref="SparseMoeBlock"/>: maps MLP inputs <c>(N, H)</c> to logits <c>(N, E)</c>.
/// Parameter names follow the checkpoints: <c>weight</c> (v2 linear gate) or <c>gate_network.0.weight</c> /
/// <c>gate_network.2.weight</c> (v1 tanh MLP), plus <c>weight_noise.weight</c> for the v1 noisy gate.
/// </summary>
public sealed class MoeRouter : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? weight;
    private readonly Sequential? gateNetwork;
    private readonly Linear? weightNoise;
    private readonly double noiseEpsilon;

    /// <summary>Creates the router; weights use PyTorch's default Linear init (Kaiming uniform, a = √5), noise weights are zero.</summary>
    public MoeRouter(int hiddenSize, int experts, RouterNetwork network, bool noisy, double noiseEpsilon, Device? device = null, ScalarType? dtype = null)
        : base(nameof(MoeRouter))
    {
        Network = network;
        this.noiseEpsilon = noiseEpsilon;
        if (network == RouterNetwork.Linear)
        {
            weight = new Parameter(empty(experts, hiddenSize, dtype: dtype, device: device)); // (E, H)
            using (no_grad())
            {
                nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
            }

            register_parameter("weight", weight);
        }
        else
        {
            gateNetwork = nn.Sequential(
                ("0", nn.Linear(hiddenSize, experts, hasBias: false, device: device, dtype: dtype)),
                ("1", nn.Tanh()),
                ("2", nn.Linear(experts, experts, hasBias: false, device: device, dtype: dtype)));
            register_module("gate_network", gateNetwork);
        }

        if (noisy)
        {
            weightNoise = nn.Linear(hiddenSize, experts, hasBias: false, device: device, dtype: dtype);
            using (no_grad())
            {
                weightNoise.weight!.zero_();
            }

            register_module("weight_noise", weightNoise);
        }
    }

    /// <summary>Parts are registered explicitly under their checkpoint names; no reflection-based registration (which would add camel-case duplicates).</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>The router network kind.</summary>
    public RouterNetwork Network { get; }

    /// <summary>Whether the router adds learned noise to the logits in training.</summary>
    public bool IsNoisy => weightNoise is not null;

    /// <summary>
    /// The first (or only) projection (E, H): the v2 gate weight, or the first layer of the v1 tanh MLP.
    /// Router initialisation (k-means centroids, random token rows) writes here.
    /// </summary>
    public Tensor InputProjection => weight ?? ((Linear)gateNetwork![0]).weight!;

    /// <summary>Clean logits <c>(N, E)</c> for inputs <c>(N, H)</c>.</summary>
    public override Tensor forward(Tensor input) =>
        weight is not null
            ? nn.functional.linear(input, weight) // (N, E)
            : gateNetwork!.forward(input); // (N, E)

    /// <summary>
    /// Logits used for expert selection: the clean logits plus, in training with a noisy gate,
    /// <c>N(0,1)·(softplus(W_noise x) + ε)</c>. Returns <paramref name="clean"/> itself when no noise applies.
    /// </summary>
    public Tensor SelectionLogits(Tensor input, Tensor clean)
    {
        if (weightNoise is null || !training)
        {
            return clean;
        }

        using var scope = NewDisposeScope();
        var sigma = nn.functional.softplus(weightNoise.forward(input)).add(noiseEpsilon); // (N, E)
        return clean.add(randn_like(clean).mul(sigma)).MoveToOuterDisposeScope(); // (N, E)
    }
}
