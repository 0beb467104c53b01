"""The end of a run: final/ extras (probe-result.json, metrics.json), then DONE.json, last, by temp file + rename.

DONE.json is the only "done" signal: {status: "done", final_step, files: {relpath under final/: sha256}}.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, Mapping, Optional, Sequence

from .preflight import sha256_file

DONE = "DONE.json"


def write_json_atomic(path: str, obj: Any) -> None:
    """Writes JSON to a temp file in the same folder, fsyncs it, then renames it over `path`."""
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2, sort_keys=True, allow_nan=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def digest_tree(folder: str) -> Dict[str, str]:
    """sha256 of every file under `folder`, keyed by its '/'-separated path relative to it, sorted."""
    digests: Dict[str, str] = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(root, name)
            digests[os.path.relpath(full, folder).replace(os.sep, "/")] = sha256_file(full)
    return dict(sorted(digests.items()))


def write_done(run_dir: str, final_step: int) -> Dict[str, Any]:
    """Hashes final/ and writes DONE.json atomically; call after everything in final/ is written."""
    done = {"status": "done", "final_step": final_step, "files": digest_tree(os.path.join(run_dir, "final"))}
    write_json_atomic(os.path.join(run_dir, DONE), done)
    return done


def read_done(run_dir: str) -> Optional[Dict[str, Any]]:
    path = os.path.join(run_dir, DONE)
    if not os.path.exists(path):
        return None
    with open(path, "r", encoding="utf-8") as handle:
        loaded: Dict[str, Any] = json.load(handle)
    return loaded


def compare_logits(actual: Sequence[float], expected: Sequence[float], rtol: float, atol: float) -> Dict[str, Any]:
    """probe-result.json content: passes when |a-e| <= atol + rtol*|e| everywhere and every value is finite."""
    if len(actual) != len(expected):
        return {"passed": False, "max_abs_diff": None, "max_rel_diff": None, "rtol": rtol, "atol": atol,
                "message": f"{len(actual)} logits, expected {len(expected)}"}
    max_abs = 0.0
    max_rel = 0.0
    passed = True
    for a, e in zip(actual, expected):
        if not math.isfinite(a):
            passed = False
            max_abs = math.inf
            continue
        diff = abs(a - e)
        max_abs = max(max_abs, diff)
        max_rel = max(max_rel, diff / abs(e) if e != 0 else (0.0 if diff == 0 else math.inf))
        if diff > atol + rtol * abs(e):
            passed = False
    return {"passed": passed, "max_abs_diff": max_abs if math.isfinite(max_abs) else None,
            "max_rel_diff": max_rel if math.isfinite(max_rel) else None, "rtol": rtol, "atol": atol}


def write_probe_result(final_dir: str, result: Mapping[str, Any]) -> None:
    write_json_atomic(os.path.join(final_dir, "probe-result.json"), dict(result))


def write_metrics(final_dir: str, metrics: Mapping[str, Any]) -> None:
    """metrics.json: log history, tokens/s/GPU, MFU, GPU-hours, world size, restarts (non-finite values -> null)."""
    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value
    write_json_atomic(os.path.join(final_dir, "metrics.json"), clean(dict(metrics)))
