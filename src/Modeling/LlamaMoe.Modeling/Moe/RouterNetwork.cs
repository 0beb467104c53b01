namespace LlamaMoe.Modeling.Moe;

/// <summary>The network that turns the MLP input into router logits.</summary>
public enum RouterNetwork
{
    /// <summary>v2 (HF Mixtral): one bias-free linear map <c>gate.weight</c> (E, H).</summary>
    Linear,

    /// <summary>
    /// v1 <c>gate_network="mlp"</c>: <c>Linear(H→E) → tanh → Linear(E→E)</c>, no biases, stored as
    /// <c>gate.gate_network.0.weight</c> (E, H) and <c>gate.gate_network.2.weight</c> (E, E).
    /// </summary>
    TanhMlp,
}
