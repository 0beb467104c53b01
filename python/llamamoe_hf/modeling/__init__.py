"""Our `llamamoe` model for profiles that stock transformers cannot express (attention-MoE, per-expert sizes, the
scale factor kept as a scalar). Importing this package needs nothing; `register()` imports torch and transformers and
registers the classes with AutoConfig/AutoModelForCausalLM (never trust_remote_code)."""

from __future__ import annotations

MODEL_TYPE = "llamamoe"
DECODER_LAYER = "LlamaMoeDecoderLayer"

_registered = False


def register() -> None:
    """AutoConfig.register("llamamoe", ...) and AutoModelForCausalLM.register(...), once per process."""
    global _registered
    if _registered:
        return
    from transformers import AutoConfig, AutoModelForCausalLM

    from .configuration import LlamaMoeConfig
    from .model import LlamaMoeForCausalLM

    AutoConfig.register(MODEL_TYPE, LlamaMoeConfig, exist_ok=True)
    AutoModelForCausalLM.register(LlamaMoeConfig, LlamaMoeForCausalLM, exist_ok=True)
    _registered = True
