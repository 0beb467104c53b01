"""Builds a tiny job bundle on disk with the standard library (the layout of the issue-12 contract)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Optional

from llamamoe_hf.safetensors_io import pack, write_safetensors

PAD = 0


def _sha(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def write_shard(path: str, rows: int, seq_len: int, first_row: int) -> None:
    """Row i (global id g = first_row + i) holds tokens g*1000 + t + 1, the last two tokens padding."""
    ids, labels, positions = [], [], []
    for i in range(rows):
        g = first_row + i
        for t in range(seq_len):
            pad = t >= seq_len - 2
            token = PAD if pad else g * 1000 + t + 1
            ids.append(token)
            labels.append(-100 if pad or t == 0 else token)
            positions.append(t if not pad else t - (seq_len - 2))
    write_safetensors(path, {
        "input_ids": ("I32", (rows, seq_len), pack("i", ids)),
        "labels": ("I32", (rows, seq_len), pack("i", labels)),
        "position_ids": ("I32", (rows, seq_len), pack("i", positions)),
        "doc_count": ("I32", (rows,), pack("i", [2] * rows)),
    })


def make_bundle(root: str, rows_per_shard: int = 16, shards: int = 2, seq_len: int = 8,
                training: Optional[Dict[str, Any]] = None, executor: Optional[Dict[str, Any]] = None) -> str:
    """Writes bundle-<key>/ under `root` and returns the path of its config/job.json."""
    bundle = os.path.join(root, "bundle-0123456789ab")
    for sub in ("model", "data", "config", "golden"):
        os.makedirs(os.path.join(bundle, sub), exist_ok=True)
    config = {"architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4, "vocab_size": 5}
    with open(os.path.join(bundle, "model", "config.json"), "w") as handle:
        json.dump(config, handle)
    with open(os.path.join(bundle, "model", "llamamoe.json"), "w") as handle:
        json.dump({"profile": "mixtral", "folds": [{"pattern": r"\.w2\.weight$", "scale": 4.0}],
                   "residual_gate": None, "source_digest": "abc"}, handle)
    write_safetensors(os.path.join(bundle, "model", "model.safetensors"), {
        "model.embed_tokens.weight": ("F32", (5, 4), pack("f", [0.5] * 20)),
        "model.layers.0.block_sparse_moe.experts.0.w2.weight": ("F32", (4, 2), pack("f", [2.0] * 8)),
    })
    shard_entries = []
    for s in range(shards):
        name = f"train-{s:05d}.safetensors"
        write_shard(os.path.join(bundle, "data", name), rows_per_shard, seq_len, s * rows_per_shard)
        shard_entries.append({"path": name, "sha256": _sha(os.path.join(bundle, "data", name)), "rows": rows_per_shard})
    rows = rows_per_shard * shards
    with open(os.path.join(bundle, "data", "manifest.json"), "w") as handle:
        json.dump({"format": "llamamoe-packed-v1", "seq_len": seq_len, "rows": rows, "tokens": rows * seq_len,
                   "supervised_tokens": rows * (seq_len - 3), "pad_id": PAD, "seed": 7, "tokenizer_digest": "t",
                   "shards": shard_entries, "eval_shards": []}, handle)
    write_safetensors(os.path.join(bundle, "golden", "probe-inputs.safetensors"),
                      {"input_ids": ("I32", (1, 3), pack("i", [1, 2, 3]))})
    write_safetensors(os.path.join(bundle, "golden", "probe-expected.safetensors"),
                      {"logits": ("F32", (1, 3, 5), pack("f", [0.1 * i for i in range(15)]))})
    with open(os.path.join(bundle, "constraints.txt"), "w") as handle:
        handle.write("torch==2.11.0\ntransformers>=5.2,<6\naccelerate>=1.0\nsafetensors>=0.4\n")
    t: Dict[str, Any] = {"learning_rate": 1e-4, "lr_scheduler_type": "cosine", "warmup_steps": 0.03, "max_steps": 6,
                         "num_train_epochs": 1, "seed": 42, "global_batch": 4, "micro_batch": 1, "weight_decay": 0.0,
                         "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-8, "max_grad_norm": 1.0,
                         "precision": "bf16", "gradient_checkpointing": True, "save_steps": 2, "save_total_limit": 2,
                         "logging_steps": 1, "eval_steps": None, "router_aux_loss_coef": 0.0,
                         "output_router_logits": False, "trainable": "all", "freeze": [], "lr_groups": []}
    t.update(training or {})
    e = {"kind": "torchrun", "sharding": "fsdp2", "nodes": 1, "gpus_per_node": 2}
    e.update(executor or {})
    job = {"schema": 1, "stage_key": "0123456789abcdef", "out_subdir": "run-0123456789ab", "model": "model",
           "data": "data/manifest.json", "profile": "mixtral", "training": t, "executor": e,
           "probe": {"inputs": "golden/probe-inputs.safetensors", "expected": "golden/probe-expected.safetensors",
                     "rtol": 1e-3, "atol": 1e-3}}
    job_path = os.path.join(bundle, "config", "job.json")
    with open(job_path, "w") as handle:
        json.dump(job, handle, indent=1)
    files = {}
    for folder, _, names in os.walk(bundle):
        for name in names:
            full = os.path.join(folder, name)
            files[os.path.relpath(full, bundle).replace(os.sep, "/")] = _sha(full)
    with open(os.path.join(bundle, "BUNDLE.json"), "w") as handle:
        json.dump({"schema": 1, "stage_key": job["stage_key"], "generator": "tests", "pins": {}, "files": files}, handle)
    return job_path
