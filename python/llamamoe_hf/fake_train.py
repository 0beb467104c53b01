"""A stand-in for train.py that speaks the whole output contract with the standard library only, for the .NET side's
integration tests (Slurm submit/stream/cancel/preempt/resume/re-attach/import) on machines without torch.

    python -m llamamoe_hf.fake_train --job <bundle>/config/job.json --out <output_uri>

It reads the real job.json and data (the sequential order, rank 0's view), writes progress/events/heartbeat,
checkpoints with COMPLETE, honours SIGUSR1/SIGTERM (checkpoint, `preempted`, exit 0), resumes from the newest COMPLETE
checkpoint, and finishes with final/ = a copy of the bundle's model/ plus probe-result.json, probe-logits.safetensors
(= golden/probe-expected), metrics.json, then DONE.json. Fault knobs (environment):

    LLAMAMOE_FAKE_STEP_SECONDS=0.05   seconds per step
    LLAMAMOE_FAKE_NAN_AT_STEP=N       loss becomes NaN at step N: error LMOE3422, exit 4, no checkpoint for N
    LLAMAMOE_FAKE_CORRUPT_DIGEST=1    DONE.json lists a wrong sha256 for one final/ file
    LLAMAMOE_FAKE_NAN_WEIGHTS=1       final/ weights hold a NaN
    LLAMAMOE_FAKE_PROBE_MISMATCH=1    probe-logits are the golden ones + 1.0
    LLAMAMOE_FAKE_PREFLIGHT_FAIL=1    preflight fails: error LMOE3410, exit 3
    LLAMAMOE_FAKE_EXIT_AT_STEP=N      the process dies (exit 137, no event) after step N, as a killed node would
    LLAMAMOE_FAKE_PREEMPT_AT_STEP=N   after step N the trainer acts as if SIGTERM came (checkpoint, `preempted`, exit 0);
                                      a resumed run starts past N, so it is preempted once
    LLAMAMOE_RECORD_ROWS=PREFIX       appends this rank's row ids, in training order, to PREFIX.rank<RANK>
Under WORLD_SIZE/RANK each rank reads its own rows; only rank 0 writes the run folder.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import struct
import sys
import time
from typing import Any, Dict, List, Optional

from . import checkpoints as ckpt
from .callbacks import RunWriter, StopFlag, check_finite
from .callbacks import read_jsonl
from .data import PackedRows, SequentialRankSampler, count_tokens, load_manifest, steps_per_epoch
from .data import step_rows as global_step_rows
from .errors import EXIT_BAD_JOB, EXIT_OK, LlamaMoeError
from .finish import compare_logits, read_done, write_done, write_json_atomic, write_metrics, write_probe_result
from .job import Job, gradient_accumulation, load_job
from .preflight import Report, check_bundle
from .safetensors_io import SafetensorsFile, pack, write_safetensors

STATE_FILE = "fake-trainer-state.json"
NAN_BYTES = {"F32": struct.pack("<f", math.nan), "BF16": b"\xc0\x7f", "F16": b"\x00\x7e", "F64": struct.pack("<d", math.nan)}


def _env_int(name: str) -> Optional[int]:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


def fake_loss(step: int, rows: List[int]) -> float:
    """A deterministic, decreasing loss that depends on which rows the step consumed."""
    return 4.0 / (1.0 + 0.05 * step) + (sum(rows) % 97) / 9700.0


def total_steps(job: Job, rows: int) -> int:
    t = job.training
    if t.max_steps > 0:
        return t.max_steps
    return max(1, int(math.ceil(t.num_train_epochs * steps_per_epoch(rows, t.global_batch))))


def save_checkpoint(run_dir: str, step: int, history: List[Dict[str, Any]], tokens: int, keep: Optional[int],
                    writer: RunWriter) -> None:
    folder = os.path.join(run_dir, "checkpoints", f"checkpoint-{step}")
    os.makedirs(folder, exist_ok=True)
    write_json_atomic(os.path.join(folder, STATE_FILE), {"global_step": step, "log_history": history,
                                                         "tokens_seen": tokens})
    write_json_atomic(os.path.join(folder, "trainer_state.json"), {"global_step": step, "log_history": history})
    ckpt.mark_complete(folder, step)
    writer.event("checkpoint", step=step)
    ckpt.prune(os.path.join(run_dir, "checkpoints"), keep)


def poison_first_float(final_dir: str) -> Optional[str]:
    """Overwrites the first element of the first floating tensor of the first *.safetensors in final/ with NaN."""
    for name in sorted(os.listdir(final_dir)):
        if not name.endswith(".safetensors"):
            continue
        path = os.path.join(final_dir, name)
        with SafetensorsFile(path) as handle:
            candidates = [i for i in handle.tensors.values() if i.dtype in NAN_BYTES and i.count > 0]
            start = handle._data_start  # noqa: SLF001 - same package
        if candidates:
            target = min(candidates, key=lambda i: i.begin)
            with open(path, "r+b") as raw:
                raw.seek(start + target.begin)
                raw.write(NAN_BYTES[target.dtype])
            return f"{name}:{target.name}"
    return None


def finish(job: Job, run_dir: str, step: int, history: List[Dict[str, Any]], tokens: int, restarts: int,
           started: float, writer: RunWriter) -> None:
    final_dir = os.path.join(run_dir, "final")
    if os.path.exists(final_dir):
        shutil.rmtree(final_dir)
    shutil.copytree(job.model_dir, final_dir)
    expected_path = job.resolve(job.probe.expected)
    with SafetensorsFile(expected_path) as golden:
        info = golden.info("logits")
        expected = list(golden.array("logits"))
    write_probe_result(final_dir, compare_logits(expected, expected, job.probe.rtol, job.probe.atol))
    logits = [v + 1.0 for v in expected] if _flag("LLAMAMOE_FAKE_PROBE_MISMATCH") else expected
    write_safetensors(os.path.join(final_dir, "probe-logits.safetensors"), {"logits": ("F32", info.shape, pack("f", logits))})
    if _flag("LLAMAMOE_FAKE_NAN_WEIGHTS"):
        poison_first_float(final_dir)
    elapsed = time.time() - started
    write_metrics(final_dir, {"log_history": history, "final_step": step, "tokens_seen": tokens,
                              "tok_s_gpu": tokens / elapsed if elapsed > 0 else None, "mfu": None,
                              "gpu_hours": 0.0, "world_size": 1, "restarts": restarts, "trainer": "fake"})
    done = write_done(run_dir, step)
    if _flag("LLAMAMOE_FAKE_CORRUPT_DIGEST") and done["files"]:
        first = sorted(done["files"])[0]
        done["files"][first] = "0" * 64
        write_json_atomic(os.path.join(run_dir, "DONE.json"), done)
    writer.event("done", step=step)


def run(job: Job, output_uri: str) -> int:
    run_dir = job.run_dir(output_uri)
    writer = RunWriter(run_dir, is_writer=int(os.environ.get("RANK", "0")) == 0)
    if read_done(run_dir) is not None:
        print(f"{run_dir} already has DONE.json; nothing to do", file=sys.stderr)
        return EXIT_OK
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    stop = StopFlag().install()
    started = time.time()
    step = 0
    try:
        t = job.training
        accumulation = gradient_accumulation(t.global_batch, t.micro_batch, world, job.path)
        writer.event("start", step=0, message=f"fake trainer, world size {world}, pid {os.getpid()}")
        report = Report()
        check_bundle(job.bundle_root, report)
        if _flag("LLAMAMOE_FAKE_PREFLIGHT_FAIL"):
            report.add("injected", False, "LLAMAMOE_FAKE_PREFLIGHT_FAIL is set")
        report.raise_if_failed(os.path.join(job.bundle_root, "BUNDLE.json"))
        manifest = load_manifest(job.manifest_path)
        max_steps = total_steps(job, manifest.rows)
        history: List[Dict[str, Any]] = []
        tokens = 0
        restarts = 0
        resume = ckpt.newest_complete(os.path.join(run_dir, "checkpoints"), log=lambda m: print(m, file=sys.stderr))
        if resume is not None:
            with open(os.path.join(resume.path, STATE_FILE), "r", encoding="utf-8") as handle:
                state = json.load(handle)
            step, history, tokens = int(state["global_step"]), list(state["log_history"]), int(state["tokens_seen"])
            writer.event("resume", from_step=step)
            restarts = sum(1 for e in read_jsonl(writer.events_path) if e.get("event") == "resume")
        nan_at = _env_int("LLAMAMOE_FAKE_NAN_AT_STEP")
        exit_at = _env_int("LLAMAMOE_FAKE_EXIT_AT_STEP")
        preempt_at = _env_int("LLAMAMOE_FAKE_PREEMPT_AT_STEP")
        seconds = float(os.environ.get("LLAMAMOE_FAKE_STEP_SECONDS", "0.05"))
        with PackedRows(manifest.shards, manifest.seq_len) as rows:
            sampler = SequentialRankSampler(len(rows), rank, world, t.micro_batch, accumulation, step, max_steps)
            covered = sampler.per_epoch * t.global_batch
            for index, batches in sampler.steps():
                step = index + 1
                time.sleep(seconds)
                consumed = [r for batch in batches for r in batch]
                record = os.environ.get("LLAMAMOE_RECORD_ROWS")
                if record:
                    with open(f"{record}.rank{rank}", "a", encoding="utf-8") as handle:
                        handle.write("".join(f"{r}\n" for r in consumed))
                # tokens over the whole global batch (the real trainer sums the ranks' counts)
                step_rows = [r % covered for r in global_step_rows(index, t.global_batch)]
                tokens += sum(count_tokens(rows.row(r)["input_ids"], manifest.pad_id) for r in step_rows)
                loss = math.nan if nan_at == step else fake_loss(step, sorted(step_rows))
                writer.heartbeat(step)
                check_finite(step, loss, 1.0)
                history.append({"step": step, "loss": loss, "rows": consumed})
                if step % t.logging_steps == 0 or step == max_steps:
                    writer.progress(step=step, max_steps=max_steps, epoch=step / max(sampler.per_epoch, 1), loss=loss,
                                    lr=t.learning_rate, grad_norm=1.0, tokens_seen=tokens,
                                    tok_s_gpu=tokens / max(time.time() - started, 1e-9) / world, mfu=None, mem_gb=0.0)
                if exit_at == step:
                    os._exit(137)
                if preempt_at == step and not stop.requested:
                    stop.signal_number = signal.SIGTERM
                saved = step % t.save_steps == 0 and step < max_steps
                if (saved or (stop.requested and step < max_steps)) and writer.is_writer:
                    save_checkpoint(run_dir, step, history, tokens, t.save_total_limit, writer)
                if stop.requested and step < max_steps:
                    writer.event("preempted", step=step, message=f"signal {stop.signal_number}")
                    return EXIT_OK
        if writer.is_writer:
            finish(job, run_dir, step, history, tokens, restarts, started, writer)
        return EXIT_OK
    except LlamaMoeError as error:
        writer.error(error, step=step)
        print(error.render(), file=sys.stderr)
        return error.exit_code
    except Exception as error:  # noqa: BLE001 - the contract wants every failure as an event
        writer.event("error", code="LMOE3429", message=f"{type(error).__name__}: {error}", step=step)
        raise
    finally:
        stop.uninstall()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llamamoe_hf.fake_train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        job = load_job(args.job)
    except LlamaMoeError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_BAD_JOB
    return run(job, args.out)


if __name__ == "__main__":
    sys.exit(main())
