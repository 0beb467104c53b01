"""Checkpoint completeness markers and the choice of the checkpoint to resume from.

A checkpoint folder `checkpoints/checkpoint-<step>/` counts only once `COMPLETE` exists in it; rank 0 writes the
marker last, after every rank has finished saving (transformers#35525: the Trainer's own resume may pick a torn one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from typing import Callable, List, Optional

from .callbacks import utc_now

MARKER = "COMPLETE"
PATTERN = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class Checkpoint:
    step: int
    path: str
    complete: bool


def list_checkpoints(checkpoints_dir: str) -> List[Checkpoint]:
    """Every checkpoint-<step> folder, ascending by step."""
    if not os.path.isdir(checkpoints_dir):
        return []
    found = []
    for name in os.listdir(checkpoints_dir):
        match = PATTERN.match(name)
        path = os.path.join(checkpoints_dir, name)
        if match and os.path.isdir(path):
            found.append(Checkpoint(int(match.group(1)), path, os.path.isfile(os.path.join(path, MARKER))))
    return sorted(found, key=lambda c: c.step)


def newest_complete(checkpoints_dir: str, log: Optional[Callable[[str], None]] = None) -> Optional[Checkpoint]:
    """The newest checkpoint carrying COMPLETE; newer incomplete ones are skipped and logged through `log`."""
    for checkpoint in reversed(list_checkpoints(checkpoints_dir)):
        if checkpoint.complete:
            return checkpoint
        if log is not None:
            log(f"skipping incomplete checkpoint {checkpoint.path} (no {MARKER} marker)")
    return None


def mark_complete(checkpoint_dir: str, step: int) -> str:
    """Writes COMPLETE (temp + rename) after everything else of the checkpoint is on disk."""
    path = os.path.join(checkpoint_dir, MARKER)
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump({"step": step, "ts": utc_now()}, handle)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def prune(checkpoints_dir: str, keep: Optional[int]) -> List[str]:
    """Deletes the oldest COMPLETE checkpoints beyond `keep`, and incomplete ones older than the newest complete."""
    removed: List[str] = []
    if keep is None or keep < 1:
        return removed
    all_checkpoints = list_checkpoints(checkpoints_dir)
    complete = [c for c in all_checkpoints if c.complete]
    newest = complete[-1].step if complete else None
    doomed = complete[:-keep] if len(complete) > keep else []
    doomed += [c for c in all_checkpoints if not c.complete and newest is not None and c.step < newest]
    for checkpoint in doomed:
        shutil.rmtree(checkpoint.path, ignore_errors=True)
        removed.append(checkpoint.path)
    return removed
