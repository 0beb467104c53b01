#!/usr/bin/env python3
"""Helpers of scripts/gpu-scaleout.sh (issue 12's GPU check). Subcommands that need torch import it lazily; under
GPU_SCALEOUT_DRY_RUN=1 they fall back to standard-library stand-ins so the script's plumbing can be exercised anywhere.

  env            versions, deepspeed absent, grouped_mm present, measured bf16 matmul peak -> env.json
  dry-bundle     a tiny bundle written with the standard library (dry runs only)
  find-bundles   folders under ROOT holding BUNDLE.json, one per line
  derive         a copy of a bundle with job.json keys overridden (BUNDLE.json digests recomputed)
  parity         model/ in its stock class: fp32 logits vs golden/probe-expected (1e-5 relative), bf16 probe
  wait-step      block until <run>/progress.jsonl reaches a step (for the SIGUSR1 test)
  losses         preempted+resumed run vs uninterrupted run: events and per-step losses after the resume
  rows           rows consumed per optimizer step across ranks and a world-size change equal [kG, (k+1)G)
  perf           4-layer Llama-3-8B-width MoE (8 experts top-2) vs dense: tok/s/GPU, MFU; eager vs grouped_mm
  report         every *.json result -> summary.md, "RESULT: PASS|FAIL", exit 1 on failure
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
DRY = os.environ.get("GPU_SCALEOUT_DRY_RUN") == "1"


def write(path: str, obj: Dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=2, default=str) + "\n")
    print(json.dumps(obj, default=str)[:2000])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def cmd_env(a: argparse.Namespace) -> int:
    from importlib import metadata
    result: Dict[str, Any] = {"check": "environment", "python": sys.version.split()[0]}
    for package in ("torch", "transformers", "accelerate", "safetensors", "deepspeed"):
        try:
            result[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            result[package] = None
    result["deepspeed_absent"] = result["deepspeed"] is None
    if DRY:
        result.update(passed=True, dry_run=True)
        write(a.out, result)
        return 0
    import torch
    result["cuda"] = torch.cuda.is_available()
    result["device"] = torch.cuda.get_device_name(0) if result["cuda"] else None
    result["grouped_mm"] = hasattr(torch, "_grouped_mm") or hasattr(torch.nn.functional, "grouped_mm")
    if result["cuda"]:
        n = 8192
        x = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        y = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        for _ in range(3):
            x @ y
        torch.cuda.synchronize()
        began, reps = time.perf_counter(), 20
        for _ in range(reps):
            x @ y
        torch.cuda.synchronize()
        result["bf16_matmul_tflops"] = 2 * n ** 3 * reps / (time.perf_counter() - began) / 1e12
    result["passed"] = bool(result["cuda"] and result["grouped_mm"] and result["torch"] and result["transformers"])
    write(a.out, result)
    return 0


def cmd_dry_bundle(a: argparse.Namespace) -> int:
    sys.path.insert(0, str(HERE.parent / "python"))
    from tests.bundle_fixture import make_bundle
    job = make_bundle(a.root, rows_per_shard=a.rows, shards=2, seq_len=8,
                      training={"max_steps": a.steps, "save_steps": 10, "logging_steps": 1},
                      executor={"gpus_per_node": 1})
    py = Path(job).parent.parent / "py" / "llamamoe_hf"
    shutil.copytree(HERE.parent / "python" / "llamamoe_hf", py, ignore=shutil.ignore_patterns("__pycache__"))
    print(Path(job).parent.parent)
    return 0


def cmd_find_bundles(a: argparse.Namespace) -> int:
    seen = set()
    for path in sorted(Path(a.root).rglob("BUNDLE.json")):
        folder = path.parent.resolve()
        if folder not in seen and (folder / "config" / "job.json").exists():
            seen.add(folder)
            print(folder)
    return 0


def cmd_derive(a: argparse.Namespace) -> int:
    source, dest = Path(a.bundle), Path(a.out)
    if dest.exists():
        shutil.rmtree(dest)

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, dest, copy_function=link_or_copy)
    job_path = dest / "config" / "job.json"
    job = json.loads(job_path.read_text())
    for assignment in a.set or []:
        key, value = assignment.split("=", 1)
        node = job
        parts = key.split(".")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = json.loads(value)
    job_path.unlink()  # a hard link: never write through it into the source bundle
    job_path.write_text(json.dumps(job, indent=2) + "\n")
    bundle_path = dest / "BUNDLE.json"
    bundle = json.loads(bundle_path.read_text())
    bundle["files"]["config/job.json"] = sha256(job_path)
    bundle_path.unlink()
    bundle_path.write_text(json.dumps(bundle, indent=2) + "\n")
    print(dest)
    return 0


def cmd_parity(a: argparse.Namespace) -> int:
    bundle = Path(a.bundle)
    job = json.loads((bundle / "config" / "job.json").read_text())
    facts = json.loads((bundle / "model" / "llamamoe.json").read_text())
    config = json.loads((bundle / "model" / "config.json").read_text())
    result: Dict[str, Any] = {"check": f"parity {bundle.name}", "profile": facts.get("profile"),
                              "architectures": config.get("architectures"), "rope_scaling": config.get("rope_scaling")}
    if DRY:
        from llamamoe_hf.finish import compare_logits
        from llamamoe_hf.safetensors_io import SafetensorsFile
        with SafetensorsFile(str(bundle / job["probe"]["expected"])) as golden:
            expected = list(golden.array("logits"))
        result.update(compare_logits(expected, expected, 1e-5, 0.0), dry_run=True)
        write(a.out, result)
        return 0
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
    if facts.get("profile") == "llamamoe":
        from llamamoe_hf.modeling import register
        register()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ids = load_file(str(bundle / job["probe"]["inputs"]))["input_ids"].long().to(device)
    expected = load_file(str(bundle / job["probe"]["expected"]))["logits"].float()
    for dtype, rtol, atol in ((torch.float32, 1e-5, 1e-5), (torch.bfloat16, job["probe"]["rtol"], job["probe"]["atol"])):
        name = "fp32" if dtype == torch.float32 else "bf16"
        kwargs: Dict[str, Any] = {"dtype": dtype}
        if facts.get("profile") != "llamamoe":
            kwargs["experts_implementation"] = "eager"
        model = AutoModelForCausalLM.from_pretrained(str(bundle / "model"), **kwargs).to(device).eval()
        result[f"{name}_class"] = type(model).__name__
        with torch.no_grad():
            logits = model(input_ids=ids, use_cache=False).logits.float().cpu()
        diff = (logits - expected).abs()
        rel = float((diff / expected.abs().clamp_min(1e-6)).max())
        result[f"{name}_max_abs_diff"] = float(diff.max())
        result[f"{name}_max_rel_diff"] = rel
        result[f"{name}_passed"] = bool((diff <= atol + rtol * expected.abs()).all())
        result[f"{name}_argmax_agreement"] = float((logits.argmax(-1) == expected.argmax(-1)).float().mean())
        del model
    result["passed"] = result["fp32_passed"] and result["bf16_passed"]
    write(a.out, result)
    return 0


def read_jsonl(path: Path) -> List[Dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def cmd_wait_step(a: argparse.Namespace) -> int:
    progress = Path(a.run) / "progress.jsonl"
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        records = read_jsonl(progress) if progress.exists() else []
        if records and records[-1]["step"] >= a.step:
            print(records[-1]["step"])
            return 0
        time.sleep(0.05)
    print(f"timed out waiting for step {a.step} in {progress}", file=sys.stderr)
    return 1


def cmd_losses(a: argparse.Namespace) -> int:
    reference = {p["step"]: p["loss"] for p in read_jsonl(Path(a.reference) / "progress.jsonl")}
    events = read_jsonl(Path(a.resumed) / "events.jsonl")
    kinds = [e["event"] for e in events]
    preempted = [e for e in events if e["event"] == "preempted"]
    resumes = [e for e in events if e["event"] == "resume"]
    resumed_progress = read_jsonl(Path(a.resumed) / "progress.jsonl")
    from_step = resumes[0]["from_step"] if resumes else None
    after = {p["step"]: p["loss"] for p in resumed_progress if from_step is not None and p["step"] > from_step}
    diffs = [abs(loss - reference[step]) for step, loss in after.items() if step in reference and loss is not None]
    checkpoint_ok = bool(preempted) and (Path(a.resumed) / "checkpoints" / f"checkpoint-{preempted[0]['step']}" /
                                         "COMPLETE").exists() if preempted else False
    result = {"check": "preempt-resume", "events": kinds, "preempted_at": preempted[0]["step"] if preempted else None,
              "resumed_from": from_step, "compared_steps": len(diffs), "max_loss_diff": max(diffs) if diffs else None,
              "bitwise": bool(diffs) and max(diffs) == 0.0, "done": (Path(a.resumed) / "DONE.json").exists(),
              "checkpoint_complete": checkpoint_ok}
    result["passed"] = bool(preempted and resumes and diffs and max(diffs) <= a.tol and result["done"]
                            and checkpoint_ok and from_step == preempted[0]["step"])
    write(a.out, result)
    return 0


def cmd_rows(a: argparse.Namespace) -> int:
    """Phase 1 at world size W1 until the checkpoint phase 2 resumed from (its `resume` event), phase 2 at W2 to the
    end: each optimizer step's union of rows over the ranks must be [kG, (k+1)G) (modulo the rows whole steps cover)."""
    job = json.loads((Path(a.bundle) / "config" / "job.json").read_text())
    manifest = json.loads((Path(a.bundle) / job["data"]).read_text())
    t = job["training"]
    global_batch, micro, steps = t["global_batch"], t["micro_batch"], t["max_steps"]
    resumes = [e for e in read_jsonl(Path(a.run) / "events.jsonl") if e["event"] == "resume"]
    problems: List[str] = [] if resumes else ["phase 2 did not resume"]
    resume_step = resumes[-1]["from_step"] if resumes else 0
    per_step: Dict[int, List[int]] = {}
    for prefix, world, first, last in ((a.phase1, a.world1, 0, resume_step), (a.phase2, a.world2, resume_step, steps)):
        accumulation = global_batch // (micro * world)
        for rank in range(world):
            path = Path(f"{prefix}.rank{rank}")
            rows = [int(x) for x in path.read_text().split()] if path.exists() else []
            batches = [rows[i:i + micro] for i in range(0, len(rows), micro)]
            for j, batch in enumerate(batches):
                step = first + j // accumulation
                if step < last:
                    per_step.setdefault(step, []).extend(batch)
    covered = (manifest["rows"] // global_batch) * global_batch
    for step in range(steps):
        expected = sorted(r % covered for r in range(step * global_batch, (step + 1) * global_batch))
        if sorted(per_step.get(step, [])) != expected:
            problems.append(f"step {step}: got {sorted(per_step.get(step, []))[:8]}, expected {expected[:8]}")
    write(a.out, {"check": "multi-rank data order", "steps": steps, "world_sizes": [a.world1, a.world2],
                  "resumed_from": resume_step, "problems": problems[:10], "passed": not problems})
    return 0


def cmd_perf(a: argparse.Namespace) -> int:
    result: Dict[str, Any] = {"check": "performance probe", "seq_len": a.seq_len, "micro_batch": a.micro_batch}
    if DRY:
        result.update(passed=True, dry_run=True, note="skipped: needs a GPU")
        write(a.out, result)
        return 0
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, MixtralConfig, MixtralForCausalLM
    from llamamoe_hf.flops import active_parameters, flops_per_token, peak_flops
    common = dict(hidden_size=4096, num_hidden_layers=4, num_attention_heads=32, num_key_value_heads=8,
                  vocab_size=128256, max_position_embeddings=8192, rope_theta=500000.0, rms_norm_eps=1e-5,
                  tie_word_embeddings=False)
    spec = peak_flops(torch.cuda.get_device_name(0))
    measured = float(os.environ.get("GPU_SCALEOUT_MEASURED_TFLOPS", "0")) * 1e12
    runs = []
    for name, build in (
            ("dense", lambda: LlamaForCausalLM(LlamaConfig(intermediate_size=14336, **common))),
            ("moe-eager", lambda: MixtralForCausalLM(MixtralConfig(intermediate_size=1792, num_local_experts=8,
                                                                   num_experts_per_tok=2, **common))),
            ("moe-grouped_mm", lambda: MixtralForCausalLM(MixtralConfig(intermediate_size=1792, num_local_experts=8,
                                                                        num_experts_per_tok=2, **common)))):
        torch.manual_seed(0)
        with torch.device("cuda"):
            model = build().to(torch.bfloat16)
        if name.startswith("moe"):
            impl = name.split("-", 1)[1]
            try:
                model.set_experts_implementation(impl)
            except AttributeError:
                model.config._experts_implementation = impl
        model.config._attn_implementation = "sdpa"
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
        ids = torch.randint(0, 128256, (a.micro_batch, a.seq_len), device="cuda")
        timings = []
        try:
            for i in range(a.warmup + a.steps):
                torch.cuda.synchronize()
                began = time.perf_counter()
                loss = model(input_ids=ids, labels=ids).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                torch.cuda.synchronize()
                if i >= a.warmup:
                    timings.append(time.perf_counter() - began)
        except Exception as error:  # noqa: BLE001 - report, keep the other rows
            runs.append({"model": name, "error": f"{type(error).__name__}: {error}"[:400]})
            del model, optimizer
            torch.cuda.empty_cache()
            continue
        experts = 8 if name.startswith("moe") else 0
        active = active_parameters(((n, p.numel()) for n, p in model.named_parameters()), 2, experts)
        fpt = flops_per_token(active, 4, 4096, a.seq_len)
        tok_s = a.micro_batch * a.seq_len / (sum(timings) / len(timings))
        runs.append({"model": name, "tok_s_gpu": tok_s, "flops_per_token": fpt, "mfu_spec": tok_s * fpt / spec if spec else None,
                     "mfu_measured_peak": tok_s * fpt / measured if measured else None,
                     "mem_gb": torch.cuda.max_memory_allocated() / 2 ** 30})
        del model, optimizer
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    by_name = {r["model"]: r for r in runs if "tok_s_gpu" in r}
    if "dense" in by_name and "moe-grouped_mm" in by_name:
        result["moe_over_dense"] = by_name["moe-grouped_mm"]["tok_s_gpu"] / by_name["dense"]["tok_s_gpu"]
    if "moe-eager" in by_name and "moe-grouped_mm" in by_name:
        result["grouped_over_eager"] = by_name["moe-grouped_mm"]["tok_s_gpu"] / by_name["moe-eager"]["tok_s_gpu"]
    result["runs"] = runs
    result["passed"] = len(by_name) == 3  # performance goals are reported, not enforced, on a 4-layer probe
    write(a.out, result)
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    results = []
    for path in sorted(Path(a.results).glob("*.json")):
        try:
            results.append((path.name, json.loads(path.read_text())))
        except ValueError:
            results.append((path.name, {"check": path.name, "passed": False, "error": "unreadable"}))
    lines = ["# GPU scale-out check" + (" (DRY RUN: plumbing only)" if DRY else ""), "",
             "| check | passed | details |", "|---|---|---|"]
    failed = [n for n, r in results if not r.get("passed")]
    for name, r in results:
        details = {k: v for k, v in r.items() if k not in ("check", "passed", "runs", "events", "problems")}
        lines.append(f"| {r.get('check', name)} | {'yes' if r.get('passed') else '**no**'} | "
                     f"{json.dumps(details, default=str)[:600]} |")
    for name, r in results:
        for run in r.get("runs", []) or []:
            lines.append(f"\n{name}: {json.dumps(run, default=str)}")
    expected = set(a.expect or [])
    missing = sorted(expected - {n for n, _ in results})
    if missing:
        lines.append(f"\nmissing results: {missing}")
    ok = not failed and not missing and bool(results)
    lines.append("")
    lines.append(f"RESULT: {'PASS' if ok else 'FAIL'}")
    text = "\n".join(lines) + "\n"
    Path(a.results, "summary.md").write_text(text)
    print(text)
    return 0 if ok else 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("env"); p.add_argument("--out", required=True)
    p = sub.add_parser("dry-bundle"); p.add_argument("--root", required=True)
    p.add_argument("--rows", type=int, default=64); p.add_argument("--steps", type=int, default=30)
    p = sub.add_parser("find-bundles"); p.add_argument("--root", required=True)
    p = sub.add_parser("derive"); p.add_argument("--bundle", required=True); p.add_argument("--out", required=True)
    p.add_argument("--set", action="append")
    p = sub.add_parser("parity"); p.add_argument("--bundle", required=True); p.add_argument("--out", required=True)
    p = sub.add_parser("wait-step"); p.add_argument("--run", required=True); p.add_argument("--step", type=int, required=True)
    p.add_argument("--timeout", type=float, default=300)
    p = sub.add_parser("losses"); p.add_argument("--reference", required=True); p.add_argument("--resumed", required=True)
    p.add_argument("--tol", type=float, default=1e-6); p.add_argument("--out", required=True)
    p = sub.add_parser("rows")
    for name in ("bundle", "run", "phase1", "phase2", "out"):
        p.add_argument(f"--{name}", required=True)
    for name in ("world1", "world2"):
        p.add_argument(f"--{name}", type=int, required=True)
    p = sub.add_parser("perf"); p.add_argument("--out", required=True)
    p.add_argument("--seq-len", type=int, default=4096); p.add_argument("--micro-batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=8); p.add_argument("--warmup", type=int, default=3)
    p = sub.add_parser("report"); p.add_argument("--results", required=True); p.add_argument("--expect", nargs="*")
    a = parser.parse_args(argv)
    handlers = {"env": cmd_env, "dry-bundle": cmd_dry_bundle, "find-bundles": cmd_find_bundles, "derive": cmd_derive,
                "parity": cmd_parity, "wait-step": cmd_wait_step, "losses": cmd_losses, "rows": cmd_rows,
                "perf": cmd_perf, "report": cmd_report}
    return handlers[a.command](a)


if __name__ == "__main__":
    sys.exit(main())
