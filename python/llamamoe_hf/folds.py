"""Folded scale factors (model/llamamoe.json) and what they mean for the optimizer.

An export may fold a scalar s into a weight (Mixtral `w2 <- s*w2`, Qwen2-MoE shared `down_proj <- 2*down_proj`). The
folded tensor then gets gradients 1/s smaller; AdamW normalises that away, so such tensors train in their own param
group with lr*s, eps/s and weight_decay/s to move the function as the unfolded model would.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .errors import BAD_MODEL, LlamaMoeError

PROFILES = ("mixtral", "qwen2-moe", "llamamoe", "llama")  # llama: a dense stock LlamaForCausalLM (train-dense)
RESIDUAL_GATES = ("zeroed-frozen", None)


@dataclass(frozen=True)
class Fold:
    pattern: str
    scale: float

    def matches(self, name: str) -> bool:
        return re.search(self.pattern, name) is not None


@dataclass(frozen=True)
class ModelFacts:
    """model/llamamoe.json."""

    profile: str
    folds: Tuple[Fold, ...]
    residual_gate: Optional[str]
    source_digest: Optional[str]


def load_facts(model_dir: str) -> ModelFacts:
    """Reads model/llamamoe.json (LMOE3415 when absent or malformed)."""
    path = os.path.join(model_dir, "llamamoe.json")
    try:
        with open(path, "r", encoding="utf-8") as handle:
            obj = json.load(handle)
    except (OSError, ValueError) as error:
        raise LlamaMoeError(BAD_MODEL, f"cannot read: {error}", path, None, "Regenerate the bundle.") from error
    return parse_facts(obj, path)


def parse_facts(obj: Any, path: str) -> ModelFacts:
    if not isinstance(obj, dict):
        raise LlamaMoeError(BAD_MODEL, "must be a JSON object", path, None, "Regenerate the bundle.")
    profile = obj.get("profile")
    if profile not in PROFILES:
        raise LlamaMoeError(BAD_MODEL, f"profile {profile!r} is not one of {list(PROFILES)}", path, "profile",
                            "Regenerate the bundle.")
    folds: List[Fold] = []
    for i, item in enumerate(obj.get("folds") or []):
        try:
            fold = Fold(str(item["pattern"]), float(item["scale"]))
            re.compile(fold.pattern)
        except (KeyError, TypeError, ValueError, re.error) as error:
            raise LlamaMoeError(BAD_MODEL, f"malformed fold: {error}", path, f"folds[{i}]",
                                "Each fold needs a regex pattern and a non-zero scale.") from error
        if fold.scale == 0 or fold.scale != fold.scale:
            raise LlamaMoeError(BAD_MODEL, f"fold scale {fold.scale} cannot be undone", path, f"folds[{i}].scale",
                                "Use a finite non-zero scale.")
        folds.append(fold)
    gate = obj.get("residual_gate")
    if gate not in RESIDUAL_GATES:
        raise LlamaMoeError(BAD_MODEL, f"residual_gate {gate!r} is not one of {list(RESIDUAL_GATES)}", path,
                            "residual_gate", "Regenerate the bundle.")
    digest = obj.get("source_digest")
    return ModelFacts(profile, tuple(folds), gate, str(digest) if digest is not None else None)


def scale_of(name: str, folds: Sequence[Fold]) -> float:
    """The product of the scales of every fold whose pattern matches `name` (1.0 when none)."""
    scale = 1.0
    for fold in folds:
        if fold.matches(name):
            scale *= fold.scale
    return scale


def _multiply(value: Any, factor: float) -> Any:
    if isinstance(value, list):
        return [_multiply(v, factor) for v in value]
    return value * factor


def apply_folds(state: Mapping[str, Any], folds: Sequence[Fold],
                multiply: Callable[[Any, float], Any] = _multiply) -> Dict[str, Any]:
    """A copy of `state` with every folded tensor multiplied by its scale (torch tensors, numbers or nested lists)."""
    return {name: multiply(value, scale_of(name, folds)) if scale_of(name, folds) != 1.0 else value
            for name, value in state.items()}


def undo_folds(state: Mapping[str, Any], folds: Sequence[Fold],
               multiply: Callable[[Any, float], Any] = _multiply) -> Dict[str, Any]:
    """The inverse of apply_folds (exact for powers of two)."""
    return {name: multiply(value, 1.0 / scale_of(name, folds)) if scale_of(name, folds) != 1.0 else value
            for name, value in state.items()}


@dataclass(frozen=True)
class GroupSettings:
    """AdamW settings for one param group."""

    lr: float
    eps: float
    weight_decay: float


def group_settings(scale: float, lr: float, eps: float, weight_decay: float) -> GroupSettings:
    """lr*s, eps/s, weight_decay/s for a tensor folded by s (identity for s = 1)."""
    return GroupSettings(lr * scale, eps / scale, weight_decay / scale)
