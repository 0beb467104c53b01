"""Pieces of the real run that need torch/transformers (imported lazily): model loading with freezes, the param
groups of folded tensors, the sequential sampler, COMPLETE markers after saves, per-step stop agreement, probes."""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import checkpoints as ckpt
from .callbacks import RunWriter, StopFlag
from .folds import Fold, ModelFacts, group_settings, scale_of
from .job import Job

TRAINABLE_PATTERNS: Dict[str, Optional[str]] = {
    "all": None,
    "router": r"(block_sparse_moe\.gate\.|mlp\.gate\.weight|self_attn\.gate\.)",
    "experts": r"(\.experts\.|mlp_residual\.|shared_expert\.)",
    "attention": r"self_attn\.",
    "residual": r"(mlp_residual\.|shared_expert\.)",
    "non-experts": r"^(?!.*\.experts\.)",
    "embeddings": r"(embed_tokens\.|lm_head\.)",
    "norms": r"(norm\.weight$|layernorm\.)",
}
NAMED_GROUPS = ("router", "experts", "attention", "embeddings", "norms")


def _in_group(group: str, name: str) -> bool:
    if group == "other":  # everything the named groups do not cover
        return not any(_in_group(g, name) for g in NAMED_GROUPS)
    pattern = TRAINABLE_PATTERNS.get(group)
    return pattern is None or re.search(pattern, name) is not None
WRAPPER_PARTS = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.")


def clean_name(name: str) -> str:
    """The parameter's name in the checkpoint: FSDP/checkpoint/compile wrapper parts and a DDP `module.` prefix removed."""
    for part in WRAPPER_PARTS:
        name = name.replace(part, "")
    return name[len("module."):] if name.startswith("module.") else name


def is_trainable(name: str, job: Job, facts: ModelFacts) -> bool:
    """trainable mode, then freeze regexes, then the frozen Qwen2-MoE shared-expert gate."""
    trainable = job.training.trainable
    groups = (trainable,) if isinstance(trainable, str) else trainable
    if not any(_in_group(g, name) for g in groups):
        return False
    if any(re.search(p, name) for p in job.training.freeze):
        return False
    if facts.residual_gate == "zeroed-frozen" and "shared_expert_gate" in name:
        return False
    return True


def apply_freezes(model: Any, job: Job, facts: ModelFacts) -> Dict[str, int]:
    counts = {"trainable": 0, "frozen": 0}
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(is_trainable(name, job, facts))
        counts["trainable" if parameter.requires_grad else "frozen"] += parameter.numel()
    return counts


def param_groups(named: Sequence[Any], job: Job, folds: Sequence[Fold]) -> List[Dict[str, Any]]:
    """AdamW groups keyed by (fold scale, lr-group scale, decay): lr*s*g, eps/s, wd/s; 1-D tensors get no decay."""
    t = job.training
    groups: Dict[Any, Dict[str, Any]] = {}
    for name, parameter in named:
        if not parameter.requires_grad:
            continue
        plain = clean_name(name)
        fold = scale_of(plain, folds)
        lr_scale = 1.0
        for group in t.lr_groups:
            if re.search(group.pattern, plain):
                lr_scale *= group.scale
        decay = parameter.dim() >= 2
        settings = group_settings(fold, t.learning_rate * lr_scale, t.adam_epsilon, t.weight_decay if decay else 0.0)
        key = (fold, lr_scale, decay)
        entry = groups.setdefault(key, {"params": [], "lr": settings.lr, "eps": settings.eps,
                                        "weight_decay": settings.weight_decay, "names": []})
        entry["params"].append(parameter)
        entry["names"].append(plain)
    return list(groups.values())


def barrier() -> None:
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def any_rank(flag: bool) -> bool:
    """True when `flag` is true on any rank (a tiny all-reduce; the ranks must stop at the same step)."""
    import torch
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def make_trainer(job: Job, facts: ModelFacts, model: Any, args: Any, train_dataset: Any, eval_dataset: Any,
                 callbacks: List[Any]) -> Any:
    """A Trainer with the sequential sampler and our param groups (folds at s*lr)."""
    from torch.utils.data import SequentialSampler
    from transformers import Trainer

    class BundleTrainer(Trainer):  # type: ignore[misc]
        def _get_train_sampler(self, *args: Any, **kwargs: Any) -> Any:
            dataset = args[0] if args else kwargs.get("train_dataset", self.train_dataset)
            return SequentialSampler(dataset if dataset is not None else self.train_dataset)

        def create_optimizer(self, *args: Any, **kwargs: Any) -> Any:
            import torch
            if self.optimizer is None:
                groups = param_groups(list(self.model.named_parameters()), job, facts.folds)
                for group in groups:
                    group.pop("names")
                self.optimizer = torch.optim.AdamW(groups, lr=job.training.learning_rate,
                                                   betas=(job.training.adam_beta1, job.training.adam_beta2),
                                                   eps=job.training.adam_epsilon)
            return self.optimizer

    return BundleTrainer(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                         callbacks=callbacks)


def make_contract_callback(writer: RunWriter, stop: StopFlag, run_dir: str, keep: Optional[int],
                           on_log: Callable[[Any, Dict[str, Any]], None]) -> Any:
    """Heartbeat each step, stop agreement across ranks, COMPLETE + `checkpoint` event after each save."""
    from transformers import TrainerCallback

    class ContractCallback(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            writer.heartbeat(state.global_step)
            if any_rank(stop.requested) and state.global_step < state.max_steps:
                stop.signal_number = stop.signal_number or -1
                control.should_save = True
                control.should_training_stop = True
            return control

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            barrier()
            if writer.is_writer:
                folder = os.path.join(run_dir, "checkpoints", f"checkpoint-{state.global_step}")
                if os.path.isdir(folder):
                    ckpt.mark_complete(folder, state.global_step)
                    writer.event("checkpoint", step=state.global_step)
            barrier()
            return control

        def on_log(self, args: Any, state: Any, control: Any, logs: Optional[Dict[str, Any]] = None,
                   **kwargs: Any) -> Any:
            on_log(state, logs or {})
            return control

    return ContractCallback()


def probe_logits(model_dir: str, inputs_path: str, device: Any, register: Callable[[], None]) -> Any:
    """float32 logits [B, T, V] of the model in `model_dir`, loaded fresh in its stock (or registered) class."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    register()
    ids = load_file(inputs_path)["input_ids"].long().to(device)  # (B, T)
    kwargs: Dict[str, Any] = {"dtype": torch.float32}
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, experts_implementation="eager", **kwargs)
    except (TypeError, ValueError):
        model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    model = model.to(device).eval()
    with torch.no_grad():
        logits = model(input_ids=ids, use_cache=False).logits.float().cpu()  # (B, T, V)
    del model
    return logits


def compare_probe(actual: Any, expected: Any, rtol: float, atol: float) -> Dict[str, Any]:
    """probe-result.json from two float32 tensors."""
    import torch
    if actual.shape != expected.shape:
        return {"passed": False, "max_abs_diff": None, "max_rel_diff": None, "rtol": rtol, "atol": atol,
                "message": f"shape {list(actual.shape)}, expected {list(expected.shape)}"}
    diff = (actual - expected).abs()
    finite = bool(torch.isfinite(actual).all())
    rel = diff / expected.abs().clamp_min(1e-30)
    passed = finite and bool((diff <= atol + rtol * expected.abs()).all())
    return {"passed": passed, "max_abs_diff": float(diff.max()) if finite else None,
            "max_rel_diff": float(rel.max()) if finite else None, "rtol": rtol, "atol": atol}
