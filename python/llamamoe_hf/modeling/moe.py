"""The FFN Mixture-of-Experts block (SparseMoeBlock.cs) and the attention-MoE block (AttentionMoeBlock.cs)."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .routing import select_experts


class Router(nn.Module):
    """`gate.weight (E, H)` (network linear) or `gate.gate_network.{0,2}` (tanh_mlp); optional noisy `weight_noise`."""

    def __init__(self, hidden: int, experts: int, network: str = "linear", noisy: bool = False,
                 noise_epsilon: float = 1e-2) -> None:
        super().__init__()
        self.network = network
        if network == "linear":
            self.weight = nn.Parameter(torch.empty(experts, hidden))  # (E, H)
        else:
            self.gate_network = nn.Sequential(nn.Linear(hidden, experts, bias=False), nn.Tanh(),
                                              nn.Linear(experts, experts, bias=False))
        self.weight_noise = nn.Linear(hidden, experts, bias=False) if noisy else None
        self.noise_epsilon = noise_epsilon

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(clean logits, selection logits), both (N, E); noise only in training."""
        clean = F.linear(x, self.weight) if self.network == "linear" else self.gate_network(x)  # (N, E)
        if self.weight_noise is None or not self.training:
            return clean, clean
        sigma = F.softplus(self.weight_noise(x)) + self.noise_epsilon  # (N, E)
        return clean, clean + torch.randn_like(clean) * sigma


class Expert(nn.Module):
    """SwiGLU expert `w1/w3/w2`, sizes may differ per expert (ExpertMlp.cs)."""

    def __init__(self, hidden: int, intermediate: int, bias: bool = False) -> None:
        super().__init__()
        self.w1 = nn.Linear(hidden, intermediate, bias=bias)
        self.w2 = nn.Linear(intermediate, hidden, bias=bias)
        self.w3 = nn.Linear(hidden, intermediate, bias=bias)

    def forward(self, x: torch.Tensor, row_weights: Optional[torch.Tensor] = None) -> torch.Tensor:
        hidden = F.silu(self.w1(x)) * self.w3(x)  # (c, m)
        if row_weights is None:
            return self.w2(hidden)  # (c, H)
        weights = row_weights.unsqueeze(-1)  # (c, 1)
        return self.w2(hidden * weights) if self.w2.bias is None else self.w2(hidden) * weights  # (c, H)


class SparseMoeBlock(nn.Module):
    """Σ_selected w_e · scale · Expert_e(x), dropless; the residual expert lives on the decoder layer."""

    def __init__(self, hidden: int, sizes: List[int], top_k: int, scale: float, router: Any, bias: bool) -> None:
        super().__init__()
        self.hidden, self.top_k, self.scale = hidden, top_k, scale
        self.weights_mode = router.get("weights", "softmax_renormalized")
        self.gate = Router(hidden, len(sizes), router.get("network", "linear"), bool(router.get("noisy", False)))
        self.experts = nn.ModuleList(Expert(hidden, size, bias) for size in sizes)

    def forward(self, hidden_states: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(output same shape as input, router logits (N, E))."""
        flat = hidden_states.reshape(-1, self.hidden)  # (N, H)
        logits, selection = self.gate(flat)  # (N, E)
        weights, selected = select_experts(selection, self.top_k, self.weights_mode, flat.dtype)  # (N, K)
        accumulate = torch.float32 if flat.dtype in (torch.bfloat16, torch.float16) else flat.dtype
        result = torch.zeros(flat.shape, dtype=accumulate, device=flat.device)  # (N, H)
        for e, expert in enumerate(self.experts):
            token, slot = torch.where(selected == e)  # (c,), (c,)
            if token.numel() == 0 and not self.training:
                continue
            row_weights = weights[token, slot] * self.scale if self.scale != 1.0 else weights[token, slot]  # (c,)
            result.index_add_(0, token, expert(flat[token], row_weights).to(accumulate))  # (N, H)
        return result.to(flat.dtype).reshape(hidden_states.shape), logits


class AttentionMoe(nn.Module):
    """Attention experts per GQA group (AttentionMoeBlock.cs): each expert attends over the tokens routed to it at
    their original positions (causal, packed-document aware), output = Σ_e w_e·scale·O_e·a_e.

    Computed as a masked attention over the full sequence per expert (keys restricted to the expert's tokens), which
    equals the reference's compact attention up to float rounding. No KV cache: training and probes only."""

    def __init__(self, config: Any, options: Any) -> None:
        super().__init__()
        self.hidden = config.hidden_size
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.experts = int(options["num_experts"])
        self.top_k = int(options["top_k"])
        self.scale = float(options["scale_factor"])
        self.weights_mode = options.get("weights", "softmax_renormalized")
        split = int(options["split"])
        self.heads = config.num_attention_heads // config.num_key_value_heads // split
        width = self.heads * self.head_dim
        bias = bool(getattr(config, "attention_bias", False))
        self.gate = Router(self.hidden, self.experts)
        self.q_proj = nn.ModuleList(nn.Linear(self.hidden, width, bias=bias) for _ in range(self.experts))
        self.k_proj = nn.ModuleList(nn.Linear(self.hidden, self.head_dim, bias=bias) for _ in range(self.experts))
        self.v_proj = nn.ModuleList(nn.Linear(self.hidden, self.head_dim, bias=bias) for _ in range(self.experts))
        self.o_proj = nn.ModuleList(nn.Linear(width, self.hidden, bias=bias) for _ in range(self.experts))

    @staticmethod
    def allowed_keys(position_ids: torch.Tensor, padding: Optional[torch.Tensor]) -> torch.Tensor:
        """(B, T, T) bool: causal, same packed document (position ids restart at 0), key not padding."""
        b, t = position_ids.shape
        document = (position_ids == 0).long().cumsum(-1)  # (B, T)
        causal = torch.ones(t, t, dtype=torch.bool, device=position_ids.device).tril()  # (T, T)
        allowed = causal.unsqueeze(0) & (document.unsqueeze(2) == document.unsqueeze(1))  # (B, T, T)
        if padding is not None and padding.dim() == 2:
            allowed = allowed & padding.bool().unsqueeze(1)  # (B, T, T)
        return allowed

    def forward(self, hidden_states: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                position_ids: torch.Tensor, padding: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        b, t, _ = hidden_states.shape
        flat = hidden_states.reshape(-1, self.hidden)  # (N, H)
        logits, _ = self.gate(flat)  # (N, n)
        weights, selected = select_experts(logits, self.top_k, self.weights_mode, torch.float32)  # (N, k)
        combine = torch.zeros(flat.shape[0], self.experts, device=flat.device).scatter(
            1, selected, weights * self.scale).view(b, t, self.experts)  # (B, T, n)
        routed = F.one_hot(selected, self.experts).sum(1).gt(0).view(b, t, self.experts)  # (B, T, n)
        base = self.allowed_keys(position_ids, padding)  # (B, T, T)
        eye = torch.eye(t, dtype=torch.bool, device=flat.device).unsqueeze(0)  # (1, T, T)
        outputs = []
        for e in range(self.experts):
            q = self.q_proj[e](hidden_states).view(b, t, self.heads, self.head_dim).transpose(1, 2)  # (B, Gq, T, hd)
            k = self.k_proj[e](hidden_states).view(b, t, 1, self.head_dim).transpose(1, 2)  # (B, 1, T, hd)
            v = self.v_proj[e](hidden_states).view(b, t, 1, self.head_dim).transpose(1, 2)  # (B, 1, T, hd)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            mask = (base & routed[:, None, :, e]) | eye  # (B, T, T); unrouted query rows are zeroed below
            attended = F.scaled_dot_product_attention(q, k.expand(-1, self.heads, -1, -1),
                                                      v.expand(-1, self.heads, -1, -1), attn_mask=mask.unsqueeze(1))
            attended = attended.transpose(1, 2).reshape(b, t, self.heads * self.head_dim)  # (B, T, Gq*hd)
            outputs.append(attended * combine[..., e:e + 1].to(attended.dtype))  # (B, T, Gq*hd)
        stacked = torch.cat(outputs, -1)  # (B, T, n*Gq*hd)
        output = F.linear(stacked, torch.cat([o.weight for o in self.o_proj], 1))  # (B, T, H)
        if self.o_proj[0].bias is not None:
            output = output + combine.to(output.dtype) @ torch.stack([o.bias for o in self.o_proj])  # (B, T, H)
        return output, logits
