"""Routing as in ExpertRouting.cs: float32 logits -> weights and selected experts."""

from __future__ import annotations

from typing import Any, Tuple

import torch


def select_experts(logits: torch.Tensor, top_k: int, mode: str, dtype: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    """(weights (N, K) in `dtype`, selected (N, K) int64) from router logits (N, E)."""
    logits32 = logits.float()  # (N, E)
    if mode in ("softmax_renormalized", "softmax"):
        weights, selected = logits32.softmax(-1).topk(top_k, dim=-1)  # (N, K)
        if mode == "softmax_renormalized":
            weights = weights / weights.sum(-1, keepdim=True)  # (N, K)
    elif mode == "softmax_over_topk":
        top, selected = logits32.topk(top_k, dim=-1)  # (N, K)
        weights = top.softmax(-1)  # (N, K)
    elif mode == "unit":
        _, selected = logits32.topk(top_k, dim=-1)  # (N, K)
        weights = torch.ones_like(selected, dtype=torch.float32)  # (N, K)
    else:
        raise ValueError(f"unknown routing weights '{mode}'")
    return weights.to(dtype), selected
