#!/usr/bin/env python3
"""Helpers of scripts/gpu-check.sh (standard library only).

  variants  write CPU / CUDA float32 / CUDA bfloat16 copies of the shipped pipelines (precision set on every
            training stage) into one folder per run
  fixed     evaluate the CPU run's models on the CPU and on CUDA (same weights): perplexity and greedy text
  compare   read every run's eval/metrics.json and the fixed-weight results, print a markdown report, exit 1 on failure

Criteria (issue 11): with the same weights, CUDA float32 gives the same greedy text and a mean NLL within 1e-4
(relative) of the CPU; CUDA bfloat16 within 2%. Whole pipelines trained on CUDA are compared with the CPU run's
final results (training on another device changes summation orders, so trained weights differ): float32 and
bfloat16 runs must complete, keep every domain's stage-2 score at or above the converted model's, and give a
held-out stage-2 NLL no more than 2% (float32) / 3% (bfloat16) above the CPU run's (lower is fine: a bfloat16 dense
pre-training gives another, sometimes better, base model).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PIPELINES = {"quickstart": "pipelines/quickstart.yaml", "stories260k": "pipelines/stories260k.yaml"}
RUNS = {"cpu": ("cpu", "float32"), "cuda-f32": ("cuda", "float32"), "cuda-bf16": ("cuda", "bfloat16")}
TRAIN_PLUGINS = ("train", "train-dense")


def with_precision(text: str, precision: str) -> str:
    """Adds `precision: <precision>` to the `with:` block of every train / train-dense stage."""
    lines = text.splitlines()
    out: list[str] = []
    in_train = False
    for line in lines:
        if re.match(r"^  [A-Za-z0-9_-]+:\s*$", line):
            in_train = False
        match = re.match(r"^    uses:\s*(\S+)\s*$", line)
        if match:
            in_train = match.group(1) in TRAIN_PLUGINS
        if in_train and re.match(r"^    with:\s*\{", line):
            line = line.replace("{", "{ precision: " + precision + ",", 1)
            in_train = False
        out.append(line)
        if in_train and re.match(r"^    with:\s*$", line):
            out.append("      precision: " + precision)
            in_train = False
    return "\n".join(out) + "\n"


def write_variants(repo: Path, runs: Path) -> None:
    for name, source in PIPELINES.items():
        text = (repo / source).read_text(encoding="utf-8")
        for run, (_, precision) in RUNS.items():
            folder = runs / f"{name}-{run}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "pipeline.yaml").write_text(with_precision(text, precision), encoding="utf-8")


def cli_json(cli: str, args: list[str]) -> dict[str, Any]:
    done = subprocess.run([cli, *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return {"error": (done.stdout + done.stderr).strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_text(cli: str, args: list[str]) -> str:
    done = subprocess.run([cli, *args], capture_output=True, text=True, timeout=300)
    return done.stdout if done.returncode == 0 else "ERROR: " + (done.stdout + done.stderr).strip()[-2000:]


def fixed_weights(cli: str, runs: Path, data: Path) -> list[dict[str, Any]]:
    """Same weights on three placements: the CPU run's models, evaluated and sampled greedily."""
    quick = runs / "quickstart-cpu" / "artifacts" / "quickstart"
    stories = runs / "stories260k-cpu" / "artifacts" / "stories260k"
    cases = [
        (quick / stage, quick / "data" / "text-math.txt", [], "Question: What is 3 plus 4?") for stage in ("dense", "stage2")
    ] + [
        (stories / stage, data / "tinystories" / "tinystories_valid_0001-0700.txt", ["--first", "601", "--count", "100"], "Once upon a time")
        for stage in ("dense", "stage2")
    ]
    placements = {"cpu": ["--device", "cpu"], "cuda-f32": ["--device", "cuda", "--dtype", "float32"],
                  "cuda-bf16": ["--device", "cuda", "--dtype", "bfloat16"]}
    jobs = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for model, text, extra, prompt in cases:
            for placement, flags in placements.items():
                jobs.append((str(model.relative_to(runs)), placement, pool.submit(cli_json, cli, [
                    "eval", str(model), "--task", "perplexity", "--data", str(text), "--format", "stories", "--json", *extra, *flags]),
                    pool.submit(cli_text, cli, ["generate", str(model), "--prompt", prompt, "--max-new-tokens", "48", *flags])))
    results: dict[str, dict[str, Any]] = {}
    for model_name, placement, scored, generated in jobs:
        row = results.setdefault(model_name, {"model": model_name})
        row[placement] = scored.result()
        row[placement]["greedy"] = generated.result()
    return list(results.values())


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def compare(runs: Path, fixed: list[dict[str, Any]]) -> tuple[list[str], bool]:
    report = ["## Same weights, CPU vs CUDA", "", "| model | CPU NLL | CUDA f32 (rel. diff) | CUDA bf16 (rel. diff) | greedy text f32 = CPU |", "|---|---:|---:|---:|---|"]
    ok = True
    for row in fixed:
        cpu, f32, bf16 = row["cpu"], row["cuda-f32"], row["cuda-bf16"]
        if any("error" in r for r in (cpu, f32, bf16)):
            ok = False
            report.append(f"| {row['model']} | error: {cpu.get('error') or f32.get('error') or bf16.get('error')} | | | |")
            continue
        d32, d16 = relative(f32["mean_nll"], cpu["mean_nll"]), relative(bf16["mean_nll"], cpu["mean_nll"])
        same = f32["greedy"] == cpu["greedy"]
        ok &= d32 <= 1e-4 and d16 <= 0.02 and same
        report.append(f"| {row['model']} | {cpu['mean_nll']:.6f} | {f32['mean_nll']:.6f} ({d32:.1e}) | {bf16['mean_nll']:.6f} ({d16:.1e}) | {'yes' if same else 'NO'} |")
    for name in PIPELINES:
        report += ["", f"## {name}: whole pipeline trained on each device (stage 2 vs converted `moe`)", ""]
        metrics = {}
        for run in RUNS:
            path = runs / f"{name}-{run}" / "artifacts" / name / "eval" / "metrics.json"
            metrics[run] = json.loads(path.read_text()) if path.exists() else None
        if any(m is None for m in metrics.values()):
            ok = False
            report.append("missing results: " + ", ".join(r for r, m in metrics.items() if m is None))
            continue
        report += ["| task | metric | CPU moe → stage2 | CUDA f32 moe → stage2 | CUDA bf16 moe → stage2 |", "|---|---|---:|---:|---:|"]
        for index, task in enumerate(metrics["cpu"]["tasks"]):
            if task["metric"] not in ("exact_match", "mean_nll"):
                continue
            cells = []
            for run, tolerance in (("cpu", 0.0), ("cuda-f32", 0.02), ("cuda-bf16", 0.03)):
                values = metrics[run]["tasks"][index]["values"]
                converted, trained = values.get("moe"), values.get("stage2")
                cells.append(f"{converted:.4f} → {trained:.4f}")
                if task["metric"] == "exact_match":
                    ok &= trained >= converted
                elif run != "cpu":
                    ok &= trained <= metrics["cpu"]["tasks"][index]["values"]["stage2"] * (1 + tolerance)
            report.append(f"| {task['task']} | {task['metric']} | " + " | ".join(cells) + " |")
    return report, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["variants", "fixed", "compare"])
    parser.add_argument("--repo", type=Path, default=Path("."))
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--cli", default="pub/llama-moe")
    parser.add_argument("--data", type=Path, default=Path("gpu-data"))
    args = parser.parse_args()
    if args.command == "variants":
        write_variants(args.repo, args.runs)
        return 0
    if args.command == "fixed":
        (args.runs / "fixed.json").write_text(json.dumps(fixed_weights(args.cli, args.runs, args.data), indent=1))
        return 0
    fixed = json.loads((args.runs / "fixed.json").read_text()) if (args.runs / "fixed.json").exists() else []
    report, ok = compare(args.runs, fixed)
    print("\n".join(report))
    print("\nRESULT: " + ("PASS" if ok and fixed else "FAIL"))
    return 0 if ok and fixed else 1


if __name__ == "__main__":
    sys.exit(main())
