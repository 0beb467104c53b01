"""job.json -> keyword arguments of transformers.TrainingArguments (names of transformers >= 5.2).

Derived here, at the pinned version, never passed as CLI flags (distributed-training.md section 3, job.json -> engine).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

from .job import Job, gradient_accumulation

DECODER_LAYERS = {"mixtral": "MixtralDecoderLayer", "qwen2-moe": "Qwen2MoeDecoderLayer",
                  "llamamoe": "LlamaMoeDecoderLayer", "llama": "LlamaDecoderLayer"}


def fsdp2_config(job: Job) -> Dict[str, Any]:
    """The FSDP2 settings: the bundle's config/fsdp2.json when present, else the documented defaults."""
    path = job.resolve("config/fsdp2.json")
    if os.path.exists(path):
        with open(path, "r", encoding="utf-8") as handle:
            loaded: Dict[str, Any] = json.load(handle)
        return loaded
    return {"version": 2, "reshard_after_forward": True, "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "transformer_layer_cls_to_wrap": [DECODER_LAYERS[job.profile]], "state_dict_type": "SHARDED_STATE_DICT",
            "cpu_ram_efficient_loading": True, "activation_checkpointing": False}


def training_arguments(job: Job, run_dir: str, world_size: int) -> Dict[str, Any]:
    """TrainingArguments kwargs for `job` at `world_size` (LMOE3412 when the batch does not divide)."""
    t = job.training
    accumulation = gradient_accumulation(t.global_batch, t.micro_batch, world_size, job.path)
    kwargs: Dict[str, Any] = {
        "output_dir": os.path.join(run_dir, "checkpoints"),
        "learning_rate": t.learning_rate,
        "lr_scheduler_type": t.lr_scheduler_type,
        "warmup_steps": t.warmup_steps,  # a float < 1 is a ratio since 5.2 (warmup_ratio is gone)
        "max_steps": t.max_steps,
        "num_train_epochs": t.num_train_epochs,
        "seed": t.seed,
        "data_seed": t.seed,
        "per_device_train_batch_size": t.micro_batch,
        "per_device_eval_batch_size": t.micro_batch,
        "gradient_accumulation_steps": accumulation,
        "weight_decay": t.weight_decay,
        "adam_beta1": t.adam_beta1,
        "adam_beta2": t.adam_beta2,
        "adam_epsilon": t.adam_epsilon,
        "max_grad_norm": t.max_grad_norm,
        "bf16": t.precision == "bf16",
        "tf32": t.precision == "tf32",
        "gradient_checkpointing": t.gradient_checkpointing,
        "save_strategy": "steps",
        "save_steps": t.save_steps,
        "save_total_limit": t.save_total_limit,
        "save_only_model": False,  # a model-only checkpoint cannot resume
        "ignore_data_skip": False,  # resume skips the consumed batches
        "logging_strategy": "steps",
        "logging_steps": t.logging_steps,
        "eval_strategy": "steps" if t.eval_steps else "no",
        "report_to": "none",
        "include_num_input_tokens_seen": True,
        "average_tokens_across_devices": True,  # the loss does not depend on the world size
        "dataloader_drop_last": True,
        "remove_unused_columns": False,
        "disable_tqdm": True,
    }
    if t.gradient_checkpointing:
        kwargs["gradient_checkpointing_kwargs"] = {"use_reentrant": False}
    if t.eval_steps:
        kwargs["eval_steps"] = t.eval_steps
    sharding = job.executor.sharding
    env = os.environ
    if env.get("LLAMAMOE_USE_CPU") == "1":
        kwargs["use_cpu"] = True  # checks of the multi-rank logic with gloo on CPU ranks
        kwargs["bf16"] = False
    if env.get("LLAMAMOE_FORCE_DDP") == "1":
        return kwargs  # plain data parallel (the CPU gloo check: FSDP2 needs accelerators)
    if sharding == "fsdp2":
        kwargs["fsdp"] = "full_shard auto_wrap"
        kwargs["fsdp_config"] = fsdp2_config(job)
    else:
        kwargs["deepspeed"] = job.resolve(f"config/ds_{sharding}.json")
    return kwargs


def model_config_overrides(job: Job) -> Dict[str, Any]:
    """Config attributes set at load: the router aux loss (off unless the recipe asks for `switch`)."""
    t = job.training
    overrides: Dict[str, Any] = {"output_router_logits": t.output_router_logits}
    if t.output_router_logits:
        overrides["router_aux_loss_coef"] = t.router_aux_loss_coef
    return overrides


def effective_world_size(environ: Optional[Dict[str, str]] = None) -> int:
    """WORLD_SIZE as torchrun sets it (1 outside torchrun)."""
    env = environ if environ is not None else dict(os.environ)
    return int(env.get("WORLD_SIZE", "1"))
