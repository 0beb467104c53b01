"""Model FLOPs per token and the peak FLOP/s the MFU is measured against."""

from __future__ import annotations

import os
from typing import Iterable, Optional, Tuple

# dense bf16 tensor-core peaks (spec sheets, SXM parts)
PEAK_BF16 = (("H200", 989e12), ("H100", 989e12), ("GH200", 989e12), ("B200", 2250e12), ("A100", 312e12),
             ("L40S", 362e12), ("A10", 125e12))


def active_parameters(named_sizes: Iterable[Tuple[str, int]], top_k: int, experts: int) -> int:
    """Parameters a token passes through: routed experts count k/E of theirs, the input embedding none."""
    total = 0.0
    for name, size in named_sizes:
        if "embed_tokens" in name:
            continue
        if experts > 0 and (".experts." in name or name.endswith(".experts.gate_up_proj")
                            or name.endswith(".experts.down_proj")):
            total += size * top_k / experts
        else:
            total += size
    return int(total)


def flops_per_token(active_params: int, layers: int, hidden: int, seq_len: int) -> float:
    """Training FLOPs per token: 6 per active matmul parameter + causal attention scores (6·L·T·H)."""
    return 6.0 * active_params + 6.0 * layers * seq_len * hidden


def peak_flops(device_name: Optional[str]) -> float:
    """LLAMAMOE_PEAK_TFLOPS when set, else the spec bf16 peak of a known GPU, else 0 (MFU unknown)."""
    override = os.environ.get("LLAMAMOE_PEAK_TFLOPS")
    if override:
        return float(override) * 1e12
    for key, value in PEAK_BF16:
        if device_name and key in device_name.upper():
            return value
    return 0.0
