"""Greedy generation throughput of the Hugging Face baseline: the ``generate`` task of hf_baseline.py.

LlamaMoe.Benchmarks' side-by-side mode writes the prompts to a JSON file,

    {"seed": 1, "new_tokens": 128, "prompts": [[17, 250, ...], ...]}

and passes it with ``--generate-prompts FILE --generate-new-tokens N``, so both systems decode the same prompts. Here
they are left-padded (attention mask, ``pad_token_id`` 0) into one batch and decoded by ``model.generate`` with
``do_sample=False, max_new_tokens=N, min_new_tokens=N`` (exactly N new tokens per prompt, no early stop) on the
bfloat16 model in eval mode under ``torch.no_grad``, with the default KV cache. One untimed warm-up call on the first
few prompts comes first; the timed call is bracketed by ``torch.cuda.synchronize``. Throughput is
``prompts × N / seconds``.

Only the standard library is imported at module level (torch is imported inside the functions that need it).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

PAD_ID = 0
WARMUP_PROMPTS = 4


def load_prompts(path: str) -> list[list[int]]:
    """The prompts of a prompts file; ValueError when the file is not ``{"prompts": [[ids], ...]}`` with non-empty prompts."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    prompts = data.get("prompts") if isinstance(data, dict) else None
    valid = isinstance(prompts, list) and len(prompts) > 0 and all(
        isinstance(prompt, list) and len(prompt) > 0
        and all(isinstance(token, int) and not isinstance(token, bool) and token >= 0 for token in prompt)
        for prompt in prompts)
    if not valid:
        raise ValueError(f"{path}: expected {{\"prompts\": [[token ids], ...]}} with at least one non-empty prompt of ids >= 0")
    return [list(prompt) for prompt in prompts]


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int = PAD_ID) -> tuple[list[list[int]], list[list[int]]]:
    """Left-padded ids and the matching attention mask (1 = real token), both B rows of the longest prompt's width."""
    width = max(len(prompt) for prompt in prompts)
    ids = [[pad_id] * (width - len(prompt)) + list(prompt) for prompt in prompts]
    mask = [[0] * (width - len(prompt)) + [1] * len(prompt) for prompt in prompts]
    return ids, mask


def generate_once(model: Any, prompts: Sequence[Sequence[int]], new_tokens: int, device: Any, clock: Callable[[Any], float]) -> float:
    """Seconds of one ``model.generate`` call on all of ``prompts``; checks that exactly ``new_tokens`` came per row."""
    import torch

    ids, mask = left_pad(prompts)
    input_ids = torch.tensor(ids, dtype=torch.long, device=device)  # (B, W)
    attention_mask = torch.tensor(mask, dtype=torch.long, device=device)  # (B, W)
    start = clock(device)
    output = model.generate(input_ids=input_ids, attention_mask=attention_mask, do_sample=False, max_new_tokens=new_tokens,
                            min_new_tokens=new_tokens, pad_token_id=PAD_ID, use_cache=True)  # (B, W + N)
    elapsed = clock(device) - start
    if tuple(output.shape) != (len(prompts), input_ids.shape[1] + new_tokens):
        raise RuntimeError(f"generate returned shape {tuple(output.shape)}, expected {(len(prompts), input_ids.shape[1] + new_tokens)}")
    return elapsed


def time_generation(model: Any, prompts: Sequence[Sequence[int]], new_tokens: int, vocab: int, device: Any,
                    clock: Callable[[Any], float]) -> float:
    """Casts ``model`` to bfloat16 for evaluation, warms up on a few prompts, and returns the seconds of the timed call."""
    import torch

    if max(max(prompt) for prompt in prompts) >= vocab:
        raise ValueError(f"a prompt id is outside the vocabulary of {vocab}")
    if hasattr(model.config, "output_router_logits"):
        model.config.output_router_logits = False  # no per-step auxiliary loss while decoding (the training cases want it)
    model = model.to(torch.bfloat16).eval()
    with torch.no_grad():
        generate_once(model, prompts[:WARMUP_PROMPTS], new_tokens, device, clock)
        return generate_once(model, prompts, new_tokens, device, clock)
