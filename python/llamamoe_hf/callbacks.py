"""The live half of the output contract: events.jsonl, progress.jsonl + `LMOE_PROGRESS` stdout lines, heartbeat,
the NaN guard and the SIGUSR1/SIGTERM stop flag. The Hugging Face TrainerCallback is built lazily on top of these."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from datetime import datetime, timezone
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, TextIO

from .errors import NON_FINITE, LlamaMoeError

VERSION = 1
PROGRESS_PREFIX = "LMOE_PROGRESS "
EVENTS = ("start", "resume", "checkpoint", "preempted", "error", "done")
PROGRESS_KEYS = ("step", "max_steps", "epoch", "loss", "lr", "grad_norm", "tokens_seen", "tok_s_gpu", "mfu", "mem_gb")


def utc_now() -> str:
    """An ISO-8601 UTC timestamp with milliseconds, e.g. 2026-12-05T08:43:38.123Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RunWriter:
    """Appends to <run>/events.jsonl and <run>/progress.jsonl, touches <run>/heartbeat; rank 0 only writes."""

    def __init__(self, run_dir: str, is_writer: bool = True, stdout: Optional[TextIO] = None) -> None:
        self.run_dir = run_dir
        self.is_writer = is_writer
        self.stdout = stdout if stdout is not None else sys.stdout
        if is_writer:
            os.makedirs(run_dir, exist_ok=True)

    @property
    def events_path(self) -> str:
        return os.path.join(self.run_dir, "events.jsonl")

    @property
    def progress_path(self) -> str:
        return os.path.join(self.run_dir, "progress.jsonl")

    @property
    def heartbeat_path(self) -> str:
        return os.path.join(self.run_dir, "heartbeat")

    def _append(self, path: str, record: Dict[str, Any]) -> str:
        line = json.dumps(record, separators=(",", ":"), allow_nan=False)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return line

    def event(self, event: str, **fields: Any) -> None:
        """One line {v, ts, event, ...fields} (from_step, step, code, message as the event needs)."""
        if event not in EVENTS:
            raise ValueError(f"unknown event '{event}'")
        if not self.is_writer:
            return
        record: Dict[str, Any] = {"v": VERSION, "ts": utc_now(), "event": event}
        record.update({k: _finite_or_none(v) for k, v in fields.items() if v is not None})
        self._append(self.events_path, record)

    def error(self, error: LlamaMoeError, step: Optional[int] = None) -> None:
        self.event("error", code=error.code, message=error.render(), step=step)

    def progress(self, **fields: Any) -> Dict[str, Any]:
        """One progress record to progress.jsonl and as `LMOE_PROGRESS {json}` on stdout; unknown keys refused."""
        unknown = set(fields) - set(PROGRESS_KEYS)
        if unknown:
            raise ValueError(f"unknown progress keys {sorted(unknown)}")
        record: Dict[str, Any] = {"v": VERSION}
        record.update({k: _finite_or_none(fields.get(k)) for k in PROGRESS_KEYS})
        record["ts"] = utc_now()
        if self.is_writer:
            line = self._append(self.progress_path, record)
            self.stdout.write(PROGRESS_PREFIX + line + "\n")
            self.stdout.flush()
        return record

    def heartbeat(self, step: int) -> None:
        """Rewrites `heartbeat` (its mtime is the liveness signal; the content says which step)."""
        if not self.is_writer:
            return
        temp = self.heartbeat_path + ".tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(f"{step} {utc_now()}\n")
        os.replace(temp, self.heartbeat_path)


def read_jsonl(path: str) -> List[Dict[str, Any]]:
    """All complete lines of a JSON-lines file (a torn last line is ignored)."""
    if not os.path.exists(path):
        return []
    records = []
    with open(path, "r", encoding="utf-8") as handle:
        for line in handle:
            if line.endswith("\n"):
                records.append(json.loads(line))
    return records


def check_finite(step: int, loss: Optional[float], grad_norm: Optional[float]) -> None:
    """The NaN guard: LMOE3422 when the loss or gradient norm is NaN or infinite."""
    for name, value in (("loss", loss), ("grad_norm", grad_norm)):
        if value is not None and not math.isfinite(float(value)):
            raise LlamaMoeError(NON_FINITE, f"{name} is {value} at step {step}", None, f"training.{name}",
                                "Lower the learning rate, check the data, or use bf16 with gradient clipping; the last "
                                "COMPLETE checkpoint is kept.")


class StopFlag:
    """Set by SIGUSR1/SIGTERM: the trainer saves a checkpoint at the next step boundary and stops (`preempted`)."""

    def __init__(self) -> None:
        self.signal_number: Optional[int] = None
        self._previous: Dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signal_number is not None

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        self.signal_number = signum

    def install(self, signals: Optional[List[int]] = None) -> "StopFlag":
        for signum in signals if signals is not None else [signal.SIGUSR1, signal.SIGTERM]:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


class Throughput:
    """tokens/s per GPU and MFU from the tokens of the last logging window."""

    def __init__(self, flops_per_token: float, peak_flops: float, world_size: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.flops_per_token = flops_per_token
        self.peak_flops = peak_flops
        self.world_size = world_size
        self.clock = clock
        self._last_time = clock()
        self._last_tokens = 0

    def restart(self, tokens_seen: int) -> None:
        """Starts a new window at `tokens_seen` (after a resume the counter does not start at 0)."""
        self._last_time, self._last_tokens = self.clock(), tokens_seen

    def sample(self, tokens_seen: int) -> Dict[str, Optional[float]]:
        now = self.clock()
        elapsed = max(now - self._last_time, 1e-9)
        per_gpu = (tokens_seen - self._last_tokens) / elapsed / max(self.world_size, 1)
        self._last_time, self._last_tokens = now, tokens_seen
        mfu = per_gpu * self.flops_per_token / self.peak_flops if self.peak_flops > 0 else None
        return {"tok_s_gpu": per_gpu, "mfu": mfu}


def make_trainer_callback(writer: RunWriter, stop: StopFlag, throughput: Throughput, pad_id: int,
                          token_counter: Callable[[], int]) -> Any:
    """A transformers.TrainerCallback speaking the contract (imports transformers lazily).

    `token_counter` returns the non-pad tokens this job has consumed so far (summed over ranks by the caller).
    """
    from transformers import TrainerCallback

    class ContractCallback(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            writer.heartbeat(state.global_step)
            if stop.requested:
                control.should_save = True
                control.should_training_stop = True
            return control

        def on_log(self, args: Any, state: Any, control: Any, logs: Optional[Dict[str, Any]] = None,
                   **kwargs: Any) -> Any:
            logs = logs or {}
            if "loss" not in logs:
                return control
            check_finite(state.global_step, logs.get("loss"), logs.get("grad_norm"))
            tokens = token_counter()
            rates = throughput.sample(tokens)
            mem_gb = None
            try:
                import torch
                if torch.cuda.is_available():
                    mem_gb = torch.cuda.max_memory_allocated() / 2 ** 30
            except ImportError:
                pass
            writer.progress(step=state.global_step, max_steps=state.max_steps, epoch=state.epoch,
                            loss=logs.get("loss"), lr=logs.get("learning_rate"), grad_norm=logs.get("grad_norm"),
                            tokens_seen=tokens, tok_s_gpu=rates["tok_s_gpu"], mfu=rates["mfu"], mem_gb=mem_gb)
            return control

    return ContractCallback()
