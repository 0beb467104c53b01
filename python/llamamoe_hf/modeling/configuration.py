"""LlamaMoeConfig: LlamaConfig plus the keys llama-moe writes into a native config.json (model_type "llamamoe")."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

from transformers import LlamaConfig

ROUTER_WEIGHTS = ("softmax_renormalized", "softmax", "softmax_over_topk", "unit")


class LlamaMoeConfig(LlamaConfig):  # type: ignore[misc]
    """num_local_experts, num_experts_per_tok, moe_layers, expert_sizes (per MoE layer, per expert),
    intermediate_size_residual (0 = none), scale_factor (one number or one per MoE layer),
    router {network: linear|tanh_mlp, weights, noisy}, attention_moe {num_experts, top_k, scale_factor, split,
    layers, weights} or None; as in src/Modeling/LlamaMoe.Modeling/MoeModel/MoeConfig.cs."""

    model_type = "llamamoe"

    def __init__(self, num_local_experts: int = 8, num_experts_per_tok: int = 2,
                 moe_layers: Optional[Sequence[int]] = None, expert_sizes: Optional[Sequence[Sequence[int]]] = None,
                 intermediate_size_residual: int = 0, scale_factor: Union[float, Sequence[float]] = 1.0,
                 router: Optional[Dict[str, Any]] = None, attention_moe: Optional[Dict[str, Any]] = None,
                 llamamoe_format_version: int = 1, output_router_logits: bool = False,
                 router_aux_loss_coef: float = 0.0, **kwargs: Any) -> None:
        self.num_local_experts = num_local_experts
        self.num_experts_per_tok = num_experts_per_tok
        self.moe_layers: List[int] = list(moe_layers or [])
        self.expert_sizes: List[List[int]] = [list(s) for s in (expert_sizes or [])]
        self.intermediate_size_residual = intermediate_size_residual
        self.scale_factor = scale_factor if isinstance(scale_factor, (int, float)) else list(scale_factor)
        self.router = dict(router or {"network": "linear", "weights": "softmax_renormalized", "noisy": False})
        self.attention_moe = dict(attention_moe) if attention_moe else None
        self.llamamoe_format_version = llamamoe_format_version
        self.output_router_logits = output_router_logits
        self.router_aux_loss_coef = router_aux_loss_coef
        super().__init__(**kwargs)
        if self.router.get("weights", "softmax_renormalized") not in ROUTER_WEIGHTS:
            raise ValueError(f"router.weights must be one of {ROUTER_WEIGHTS}")
        if len(self.expert_sizes) != len(self.moe_layers):
            raise ValueError("expert_sizes needs one list per entry of moe_layers")

    def layer_scale(self, layer: int) -> float:
        """The FFN-MoE scale factor of MoE layer `layer`."""
        position = self.moe_layers.index(layer)
        return float(self.scale_factor if isinstance(self.scale_factor, (int, float)) else self.scale_factor[position])
