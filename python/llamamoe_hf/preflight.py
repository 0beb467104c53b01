"""Preflight (rank 0, then a barrier): package versions against constraints.txt, GPUs, an all-reduce smoke test,
BUNDLE.json digests (every small file, a sample of the large ones) and free space. Any failure is LMOE3410."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from .errors import PREFLIGHT, LlamaMoeError

LARGE_FILE = 64 * 1024 * 1024
SPEC = re.compile(r"^\s*(==|!=|>=|<=|~=|>|<)\s*([0-9][0-9A-Za-z.+!*-]*)\s*$")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


@dataclass(frozen=True)
class Constraint:
    package: str
    specifiers: Tuple[Tuple[str, str], ...]
    line: int

    def allows(self, version: str) -> bool:
        return all(_satisfies(version, op, wanted) for op, wanted in self.specifiers)

    def describe(self) -> str:
        return self.package + ",".join(op + v for op, v in self.specifiers)


def parse_constraints(text: str, path: str = "constraints.txt") -> List[Constraint]:
    """pip constraints lines: `name<op>version[,<op>version...]`; comments, blanks and markers after `;` ignored."""
    constraints = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        match = NAME.match(line)
        if not match:
            raise LlamaMoeError(PREFLIGHT, f"cannot parse '{raw}'", path, f"line {number}", "Use name==version.")
        specs = []
        rest = match.group(3).strip()
        for part in [p for p in rest.split(",") if p.strip()]:
            spec = SPEC.match(part)
            if not spec:
                raise LlamaMoeError(PREFLIGHT, f"cannot parse the version specifier '{part.strip()}'", path,
                                    f"line {number}", "Use ==, >=, <=, <, >, != or ~=.")
            specs.append((spec.group(1), spec.group(2)))
        constraints.append(Constraint(_normalise(match.group(1)), tuple(specs), number))
    return constraints


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def version_key(version: str) -> Tuple[Tuple[int, ...], Tuple[int, str]]:
    """A sortable key for release versions: numbers, then pre-release (a/b/rc/dev sorts before final). Local
    (+cu128) parts are ignored."""
    version = version.split("+", 1)[0].strip().lower().lstrip("v")
    match = re.match(r"^(\d+(?:\.\d+)*)(.*)$", version)
    if not match:
        return ((0,), (0, version))
    numbers = tuple(int(p) for p in match.group(1).split("."))
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers = numbers[:-1]
    suffix = match.group(2).lstrip(".-")
    if not suffix or suffix.startswith("post"):
        return (numbers, (1, suffix))
    return (numbers, (0, suffix))


def _satisfies(version: str, op: str, wanted: str) -> bool:
    if op in ("==", "!=") and wanted.endswith(".*"):
        prefix = wanted[:-2].split(".")
        same = version.split("+", 1)[0].split(".")[:len(prefix)] == prefix
        return same if op == "==" else not same
    have, want = version_key(version), version_key(wanted)
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    if op == ">=":
        return have >= want
    if op == "<=":
        return have <= want
    if op == ">":
        return have > want
    if op == "<":
        return have < want
    # ~=X.Y.Z means >=X.Y.Z and ==X.Y.*
    parts = wanted.split(".")
    prefix = ".".join(parts[:-1]) + ".*" if len(parts) > 1 else wanted
    return have >= want and _satisfies(version, "==", prefix)


@dataclass
class Report:
    """What preflight checked; `failures` non-empty means LMOE3410."""

    checks: List[Dict[str, object]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": ok, "detail": detail})

    @property
    def failures(self) -> List[Dict[str, object]]:
        return [c for c in self.checks if not c["ok"]]

    def raise_if_failed(self, path: Optional[str] = None) -> None:
        if self.failures:
            summary = "; ".join(f"{c['check']}: {c['detail']}" for c in self.failures)
            raise LlamaMoeError(PREFLIGHT, f"preflight failed: {summary}", path, None,
                                "Install the pinned versions (constraints.txt), fix the bundle copy or free space.")


def check_versions(constraints: List[Constraint], report: Report,
                   installed: Optional[Callable[[str], Optional[str]]] = None) -> None:
    """Each pinned package must be installed at an allowed version."""
    lookup = installed or _installed_version
    for constraint in constraints:
        have = lookup(constraint.package)
        if have is None:
            report.add(f"version:{constraint.package}", False, f"not installed, need {constraint.describe()}")
        else:
            report.add(f"version:{constraint.package}", constraint.allows(have),
                       f"{have} {'satisfies' if constraint.allows(have) else 'violates'} {constraint.describe()}")


def _installed_version(package: str) -> Optional[str]:
    from importlib import metadata
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def sha256_file(path: str, chunk: int = 4 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def check_bundle(bundle_root: str, report: Report, large_sample: int = 2, seed: int = 0,
                 large_file: int = LARGE_FILE) -> None:
    """BUNDLE.json digests: every file present; every file under `large_file` hashed; `large_sample` large ones hashed."""
    path = os.path.join(bundle_root, "BUNDLE.json")
    try:
        with open(path, "r", encoding="utf-8") as handle:
            files: Dict[str, str] = json.load(handle)["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.add("bundle", False, f"cannot read {path}: {error}")
        return
    large: List[str] = []
    bad: List[str] = []
    for rel, expected in sorted(files.items()):
        full = os.path.join(bundle_root, rel)
        if not os.path.isfile(full):
            bad.append(f"{rel} missing")
        elif os.path.getsize(full) >= large_file:
            large.append(rel)
        elif sha256_file(full) != expected:
            bad.append(f"{rel} digest mismatch")
    sample = random.Random(seed).sample(large, min(large_sample, len(large)))
    for rel in sample:
        if sha256_file(os.path.join(bundle_root, rel)) != files[rel]:
            bad.append(f"{rel} digest mismatch")
    report.add("bundle", not bad, "; ".join(bad) if bad else
               f"{len(files) - len(large)} files hashed, {len(sample)} of {len(large)} large files hashed")


def check_free_space(folder: str, needed_bytes: int, report: Report) -> None:
    os.makedirs(folder, exist_ok=True)
    free = shutil.disk_usage(folder).free
    report.add("free_space", free >= needed_bytes, f"{free / 2**30:.1f} GiB free in {folder}, "
               f"need {needed_bytes / 2**30:.1f} GiB")


def folder_bytes(folder: str) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        total += sum(os.path.getsize(os.path.join(root, n)) for n in names)
    return total


def check_gpus(report: Report, need_gpu: bool) -> None:
    """CUDA devices visible (imports torch lazily)."""
    import torch
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    names = [torch.cuda.get_device_name(i) for i in range(count)]
    report.add("gpus", count > 0 or not need_gpu, f"{count} CUDA device(s): {names}" if count else "no CUDA device")


def check_all_reduce(report: Report) -> None:
    """An all-reduce of ones over the initialised process group must equal the world size."""
    import torch
    import torch.distributed as dist
    if not dist.is_available() or not dist.is_initialized():
        report.add("all_reduce", True, "single process, no process group")
        return
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    value = torch.ones(1, device=device)
    dist.all_reduce(value)
    world = dist.get_world_size()
    report.add("all_reduce", int(value.item()) == world, f"{dist.get_backend()} all-reduce gave {value.item()}, "
               f"world size {world}")


def run_preflight(bundle_root: str, run_dir: str, need_gpu: bool, keep_checkpoints: int) -> Report:
    """Every check; the caller raises on failures (rank 0 runs it, then all ranks meet at a barrier)."""
    report = Report()
    constraints_path = os.path.join(bundle_root, "constraints.txt")
    try:
        with open(constraints_path, "r", encoding="utf-8") as handle:
            check_versions(parse_constraints(handle.read(), constraints_path), report)
    except OSError as error:
        report.add("constraints", False, f"cannot read {constraints_path}: {error}")
    check_bundle(bundle_root, report)
    model_bytes = folder_bytes(os.path.join(bundle_root, "model"))
    # final/ + each kept checkpoint (weights + two fp32 Adam moments, about 4x a bf16 model) + slack
    check_free_space(run_dir, model_bytes * (1 + 4 * max(keep_checkpoints, 1)) + 2**30, report)
    check_gpus(report, need_gpu)
    check_all_reduce(report)
    return report
