#!/usr/bin/env python3
"""Stock Hugging Face transformers baseline for LlamaMoe's side-by-side benchmark.

Trains LlamaForCausalLM (dense) and MixtralForCausalLM (MoE) of the shapes of
LlamaMoe.Benchmarks' ``--only side-by-side`` mode on random tokens, with
torch.optim.AdamW (default foreach), gradient clipping at 1.0, in float32, TF32
(``torch.set_float32_matmul_precision("high")``, which is what
``torch.backends.cuda.matmul.allow_tf32 = True`` sets) and bfloat16 autocast (float32
weights), optionally greedy generation throughput (``--generate-prompts FILE``, see hf_generate.py), and prints
one JSON object per case on stdout:

    {"system": "hf-transformers", "model": "dense", "precision": "bfloat16",
     "task": "train", "tokens_per_second": 269099.0, "step_ms": 60.9, ...}

Progress goes to stderr. torch and transformers are imported inside functions, so
this file compiles and its planning code (``--dry-run``) runs with the standard
library alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import hf_generate

SYSTEM = "hf-transformers"
PRECISIONS: tuple[str, ...] = ("float32", "tf32", "bfloat16")
MODELS: tuple[str, ...] = ("dense", "moe")
ATTENTION: tuple[str, ...] = ("sdpa", "eager")
EXPERTS: tuple[str, ...] = ("default", "eager", "grouped_mm", "batched_mm")


@dataclass(frozen=True)
class Shape:
    """Model and batch shapes; must match TrainingShape in LlamaMoe.Benchmarks/SideBySide."""

    vocab: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    seq: int
    batch: int
    experts: int
    top_k: int

    @property
    def expert_size(self) -> int:
        return self.intermediate // self.experts

    @property
    def tokens_per_step(self) -> int:
        return self.batch * self.seq


SHAPES: dict[str, Shape] = {
    "full": Shape(vocab=320, hidden=1024, layers=8, heads=16, intermediate=4096, seq=1024, batch=16, experts=8, top_k=2),
    "small": Shape(vocab=320, hidden=128, layers=2, heads=4, intermediate=512, seq=128, batch=4, experts=8, top_k=2),
}


@dataclass(frozen=True)
class Case:
    """One configuration to time."""

    model: str
    precision: str
    attention: str
    experts: str
    task: str = "train"


@dataclass
class Result:
    """One JSON line of output."""

    system: str
    model: str
    precision: str
    task: str
    tokens_per_second: float
    step_ms: float
    attention: str
    experts: str
    steps: int
    warmup: int
    batch: int
    seq: int
    device: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    first_loss: float | None = None
    last_loss: float | None = None
    error: str | None = None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parses the command line (see --help)."""

    def names(allowed: Sequence[str]) -> Any:
        def parse(text: str) -> list[str]:
            items = [item.strip() for item in text.split(",") if item.strip()]
            bad = [item for item in items if item not in allowed]
            if not items or bad:
                raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(allowed)}, got {text!r}")
            return list(dict.fromkeys(items))

        return parse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="full")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    parser.add_argument("--steps", type=int, default=30, help="timed optimizer steps per case")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before the timed ones")
    parser.add_argument("--models", type=names(MODELS), default=list(MODELS))
    parser.add_argument("--precisions", type=names(PRECISIONS), default=list(PRECISIONS))
    parser.add_argument("--attn", type=names(ATTENTION), default=["sdpa"], help="attn_implementation(s)")
    parser.add_argument("--experts", type=names(EXPERTS), default=["default"], help="Mixtral experts_implementation(s)")
    parser.add_argument("--no-eval", dest="eval", action="store_false", help="skip the bf16 no-grad forward throughput")
    parser.add_argument("--generate-prompts", metavar="FILE", help="also time greedy generation of this prompts file (hf_generate.py)")
    parser.add_argument("--generate-new-tokens", type=int, default=128, metavar="N", help="new tokens per prompt (exactly N)")
    parser.add_argument("--json", help="also write the JSON lines to this file")
    parser.add_argument("--dry-run", action="store_true", help="print the planned cases as JSON lines and exit")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 1:
        parser.error("--steps and --warmup must be at least 1")
    if args.generate_new_tokens < 1:
        parser.error("--generate-new-tokens must be at least 1")
    try:
        args.prompts = hf_generate.load_prompts(args.generate_prompts) if args.generate_prompts else []
    except (OSError, ValueError) as error:
        parser.error(f"--generate-prompts: {error}")
    return args


def plan(args: argparse.Namespace) -> list[Case]:
    """The cases in run order: per model, every precision x attention (x experts for the MoE), then eval, then generate."""
    cases: list[Case] = []
    for model in args.models:
        experts = args.experts if model == "moe" else ["default"]
        for precision in args.precisions:
            for attention in args.attn:
                for expert in experts:
                    cases.append(Case(model, precision, attention, expert))
        if args.eval:
            cases.append(Case(model, "bfloat16", args.attn[0], experts[0], task="eval"))
        if args.prompts:
            cases.append(Case(model, "bfloat16", args.attn[0], experts[0], task="generate"))
    return cases


def config_kwargs(shape: Shape, model: str) -> dict[str, Any]:
    """Keyword arguments of LlamaConfig (dense) or MixtralConfig (moe) for the shape."""
    common: dict[str, Any] = {
        "vocab_size": shape.vocab,
        "hidden_size": shape.hidden,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "num_key_value_heads": shape.heads,
        "max_position_embeddings": max(shape.seq, 2048),
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    if model == "dense":
        return {**common, "intermediate_size": shape.intermediate}
    return {
        **common,
        "intermediate_size": shape.expert_size,
        "num_local_experts": shape.experts,
        "num_experts_per_tok": shape.top_k,
        "output_router_logits": True,
        "router_aux_loss_coef": 0.01,
        "sliding_window": None,
    }


def to_json_line(result: Result) -> str:
    """One compact JSON object (no NaN: missing numbers are null)."""
    return json.dumps(asdict(result), separators=(",", ":"), allow_nan=False)


def build_model(shape: Shape, case: Case, device: Any) -> Any:
    """A float32 model of the case on the device (random init)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, MixtralConfig

    kwargs: dict[str, Any] = {"attn_implementation": case.attention}
    if case.model == "dense":
        config = LlamaConfig(**config_kwargs(shape, "dense"))
    else:
        config = MixtralConfig(**config_kwargs(shape, "moe"))
        if case.experts != "default":
            kwargs["experts_implementation"] = case.experts
    model = AutoModelForCausalLM.from_config(config, **kwargs)  # LlamaForCausalLM / MixtralForCausalLM
    return model.to(device=device, dtype=torch.float32)


def experts_in_use(model: Any, case: Case) -> str:
    """The experts implementation the model actually uses (``-`` for dense)."""
    if case.model == "dense":
        return "-"
    getter = getattr(model, "get_experts_implementation", None)
    if getter is not None:
        return str(getter().get("", case.experts))
    return str(getattr(model.config, "_experts_implementation", case.experts))


def run_case(shape: Shape, case: Case, args: argparse.Namespace, device: Any) -> Result:
    """Times one case; failures come back as ``error``."""
    import contextlib

    import torch

    result = Result(SYSTEM, case.model, case.precision, case.task, 0.0, 0.0, case.attention, case.experts,
                    args.steps, args.warmup, shape.batch, shape.seq, device=describe(device), versions=versions())
    cuda = device.type == "cuda"
    # "high" lets float32 matmuls use TF32 (torch.backends.cuda.matmul.allow_tf32 = True); "highest" keeps IEEE float32.
    previous_precision = torch.get_float32_matmul_precision()
    model = optimizer = None
    try:
        torch.set_float32_matmul_precision("high" if case.precision == "tf32" else "highest")
        torch.manual_seed(0)
        model = build_model(shape, case, device)
        result.experts = experts_in_use(model, case)
        autocast = (torch.autocast(device_type=device.type, dtype=torch.bfloat16)
                    if case.precision == "bfloat16" and case.task == "train" else contextlib.nullcontext())
        if case.task == "generate":
            # tokens_per_second = prompts x N / seconds of one call; step_ms = ms per new token; batch = prompts, seq = N.
            new_tokens = args.generate_new_tokens
            elapsed = hf_generate.time_generation(model, args.prompts, new_tokens, shape.vocab, device, synchronize_and_time)
            result.tokens_per_second = len(args.prompts) * new_tokens / elapsed
            result.step_ms = 1000.0 * elapsed / new_tokens
            result.steps, result.warmup, result.batch, result.seq = 1, 1, len(args.prompts), new_tokens
            return result
        if case.task == "eval":
            model = model.to(torch.bfloat16).eval()
            tokens = torch.randint(0, shape.vocab, (shape.batch, shape.seq), device=device)
            with torch.no_grad():
                for index in range(args.warmup + args.steps):
                    if index == args.warmup:
                        start = synchronize_and_time(device)
                    model(input_ids=tokens)
            elapsed = synchronize_and_time(device) - start
        else:
            model.train()
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
            loss = None
            for index in range(args.warmup + args.steps):
                if index == args.warmup:
                    start = synchronize_and_time(device)
                tokens = torch.randint(0, shape.vocab, (shape.batch, shape.seq), device=device)
                optimizer.zero_grad(set_to_none=True)
                with autocast:
                    loss = model(input_ids=tokens, labels=tokens).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                if index == 0:
                    result.first_loss = float(loss.item())
            elapsed = synchronize_and_time(device) - start
            result.last_loss = float(loss.item()) if loss is not None else None
        result.tokens_per_second = args.steps * shape.tokens_per_step / elapsed
        result.step_ms = 1000.0 * elapsed / args.steps
    except Exception as error:  # noqa: BLE001 - every failure becomes a reported row
        result.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    finally:
        del model, optimizer
        gc.collect()
        torch.set_float32_matmul_precision(previous_precision)
        if cuda:
            torch.cuda.empty_cache()
    return result


def synchronize_and_time(device: Any) -> float:
    """Waits for the device's queued work, then reads the clock."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def describe(device: Any) -> str:
    import torch

    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def versions() -> dict[str, str]:
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "python": sys.version.split()[0]}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shape = SHAPES[args.shape]
    cases = plan(args)
    if args.dry_run:
        for case in cases:
            print(json.dumps({"shape": args.shape, **asdict(case), "dims": asdict(shape)}, separators=(",", ":")))
        return 0

    try:
        import torch
        import transformers  # noqa: F401 - fail early with one clear line
    except ImportError as error:
        print(f"hf_baseline: cannot import torch and transformers ({error}); run it with the Python that has them", file=sys.stderr)
        return 3

    name = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    sink = open(args.json, "w", encoding="utf-8") if args.json else None
    try:
        for case in cases:
            print(f"hf_baseline: {case.task} {case.model} {case.precision} attn={case.attention} experts={case.experts} ...", file=sys.stderr, flush=True)
            result = run_case(shape, case, args, device)
            line = to_json_line(result)
            print(line, flush=True)
            if sink is not None:
                sink.write(line + "\n")
                sink.flush()
            status = result.error or f"{result.tokens_per_second:,.0f} tok/s, {result.step_ms:.1f} ms/step"
            print(f"hf_baseline:   {status}", file=sys.stderr, flush=True)
    finally:
        if sink is not None:
            sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
