"""Packed pre-tokenised data: the manifest, row access over int32 safetensors shards, and the sequential order.

.NET fixes the order: optimizer step k consumes global rows [k*G, (k+1)*G) at every world size W. Within a step the
rows are dealt out like accelerate's batch sharding of a sequential sampler: micro-batch j of the whole job holds rows
[j*m, (j+1)*m) and goes to rank j mod W, so rank r trains on micro-batches r, r+W, r+2W, ... The set of rows in each
optimizer step, and with `average_tokens_across_devices` the loss, do not depend on W.
"""

from __future__ import annotations

import bisect
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from .errors import BAD_DATA, LlamaMoeError
from .safetensors_io import SafetensorsFile

FORMAT = "llamamoe-packed-v1"
TENSORS = ("input_ids", "labels", "position_ids")
IGNORE_INDEX = -100


@dataclass(frozen=True)
class Shard:
    path: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class Manifest:
    """data/manifest.json, with shard paths resolved against its folder."""

    path: str
    seq_len: int
    rows: int
    tokens: int
    supervised_tokens: int
    pad_id: int
    seed: int
    shards: Tuple[Shard, ...]
    eval_shards: Tuple[Shard, ...]


def _shards(items: Any, folder: str, path: str, key: str) -> Tuple[Shard, ...]:
    if not isinstance(items, list):
        raise LlamaMoeError(BAD_DATA, "expected a list of shards", path, key, "Regenerate the bundle's data.")
    shards = []
    for i, item in enumerate(items):
        try:
            rel = item["path"]
            if not isinstance(rel, str) or os.path.isabs(rel) or ".." in rel.split("/"):
                raise ValueError(rel)
            shards.append(Shard(os.path.join(folder, rel), str(item["sha256"]), int(item["rows"])))
        except (KeyError, TypeError, ValueError) as error:
            raise LlamaMoeError(BAD_DATA, f"malformed shard entry: {error}", path, f"{key}[{i}]",
                                "Each shard needs a relative path, sha256 and rows.") from error
    return tuple(shards)


def load_manifest(path: str) -> Manifest:
    """Reads and checks data/manifest.json (LMOE3413)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            obj = json.load(handle)
    except (OSError, ValueError) as error:
        raise LlamaMoeError(BAD_DATA, f"cannot read the data manifest: {error}", path, None,
                            "Regenerate the bundle.") from error
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise LlamaMoeError(BAD_DATA, f"format is {obj.get('format') if isinstance(obj, dict) else None!r}, "
                            f"expected {FORMAT}", path, "format", "Regenerate the bundle with this llama-moe version.")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        manifest = Manifest(path=path, seq_len=int(obj["seq_len"]), rows=int(obj["rows"]),
                            tokens=int(obj.get("tokens", 0)), supervised_tokens=int(obj.get("supervised_tokens", 0)),
                            pad_id=int(obj.get("pad_id", 0)), seed=int(obj.get("seed", 0)),
                            shards=_shards(obj.get("shards"), folder, path, "shards"),
                            eval_shards=_shards(obj.get("eval_shards", []), folder, path, "eval_shards"))
    except (KeyError, TypeError, ValueError) as error:
        raise LlamaMoeError(BAD_DATA, f"missing or malformed key: {error}", path, None,
                            "The manifest needs seq_len, rows and shards.") from error
    if sum(s.rows for s in manifest.shards) != manifest.rows:
        raise LlamaMoeError(BAD_DATA, f"rows is {manifest.rows} but the shards hold {sum(s.rows for s in manifest.shards)}",
                            path, "rows", "Regenerate the bundle's data.")
    return manifest


class PackedRows:
    """Global row index -> (input_ids, labels, position_ids) over a list of shards, stdlib only, memory-mapped."""

    def __init__(self, shards: Sequence[Shard], seq_len: int) -> None:
        self.seq_len = seq_len
        self._files: List[SafetensorsFile] = []
        self._starts: List[int] = []
        total = 0
        try:
            for shard in shards:
                if not os.path.exists(shard.path):
                    raise LlamaMoeError(BAD_DATA, "shard listed in the manifest is missing", shard.path, None,
                                        "Copy the bundle's data/ folder completely.")
                handle = SafetensorsFile(shard.path)
                self._files.append(handle)
                for name in TENSORS:
                    info = handle.info(name)
                    if info.dtype != "I32" or info.shape != (shard.rows, seq_len):
                        raise LlamaMoeError(BAD_DATA, f"tensor '{name}' is {info.dtype} {list(info.shape)}, the manifest "
                                            f"says I32 [{shard.rows}, {seq_len}]", shard.path, name, "Regenerate the data.")
                self._starts.append(total)
                total += shard.rows
        except BaseException:
            self.close()
            raise
        self.rows = total

    def close(self) -> None:
        for handle in self._files:
            handle.close()
        self._files = []

    def __enter__(self) -> "PackedRows":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.rows

    def locate(self, index: int) -> Tuple[SafetensorsFile, int]:
        if index < 0 or index >= self.rows:
            raise IndexError(f"row {index} out of range [0, {self.rows})")
        shard = bisect.bisect_right(self._starts, index) - 1
        return self._files[shard], index - self._starts[shard]

    def row(self, index: int) -> Dict[str, List[int]]:
        handle, local = self.locate(index)
        return {name: handle.row(name, local) for name in TENSORS}

    def raw_row(self, index: int, name: str) -> bytes:
        """Little-endian int32 bytes of one row of one tensor (for torch.frombuffer)."""
        handle, local = self.locate(index)
        return handle.raw(name, local * self.seq_len, self.seq_len)


def steps_per_epoch(rows: int, global_batch: int) -> int:
    """Whole optimizer steps an epoch holds (a trailing partial global batch is dropped)."""
    return rows // global_batch


def step_rows(step: int, global_batch: int) -> range:
    """The global rows optimizer step `step` (0-based) consumes, at every world size."""
    return range(step * global_batch, (step + 1) * global_batch)


def rank_micro_batches(step: int, rank: int, world_size: int, micro_batch: int,
                       accumulation: int) -> List[List[int]]:
    """The rows rank `rank` trains on in optimizer step `step`, one list per micro-batch (accumulation lists)."""
    first = step * accumulation * world_size
    batches = []
    for j in range(accumulation):
        global_batch_index = first + j * world_size + rank
        batches.append(list(range(global_batch_index * micro_batch, (global_batch_index + 1) * micro_batch)))
    return batches


class SequentialRankSampler:
    """Row ids for one rank in training order, from optimizer step `start_step` on (resume skips consumed batches).

    Wraps around epochs: row ids are taken modulo the rows a whole number of steps covers.
    """

    def __init__(self, rows: int, rank: int, world_size: int, micro_batch: int, accumulation: int,
                 start_step: int = 0, max_steps: Optional[int] = None) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world size {world_size}")
        self.global_batch = micro_batch * world_size * accumulation
        self.per_epoch = steps_per_epoch(rows, self.global_batch)
        if self.per_epoch < 1:
            raise LlamaMoeError(BAD_DATA, f"{rows} rows do not fill one global batch of {self.global_batch}", None,
                                "training.global_batch", "Add data or lower global_batch.")
        self.rank, self.world_size, self.micro_batch, self.accumulation = rank, world_size, micro_batch, accumulation
        self.start_step = start_step
        self.max_steps = max_steps if max_steps is not None else self.per_epoch

    def steps(self) -> Iterator[Tuple[int, List[List[int]]]]:
        """(step, micro-batches of row ids) for steps start_step .. max_steps-1."""
        covered = self.per_epoch * self.global_batch
        for step in range(self.start_step, self.max_steps):
            batches = rank_micro_batches(step, self.rank, self.world_size, self.micro_batch, self.accumulation)
            yield step, [[row % covered for row in batch] for batch in batches]

    def __iter__(self) -> Iterator[int]:
        for _, batches in self.steps():
            for batch in batches:
                yield from batch


def count_tokens(input_ids: Sequence[int], pad_id: int) -> int:
    """Non-pad tokens of a row (what progress reports as tokens_seen; HF's own counter also counts padding)."""
    return sum(1 for t in input_ids if t != pad_id)


def make_torch_dataset(rows: PackedRows, record_path: Optional[str] = None) -> Any:
    """A torch Dataset over `rows` returning int64 input_ids/labels/position_ids (imports torch lazily).

    With `record_path`, every row id read is appended to that file, one per line, in reading order (the GPU check
    compares the consumed rows across world sizes)."""
    import torch
    from torch.utils.data import Dataset

    class PackedDataset(Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return len(rows)

        def __getitem__(self, index: int) -> Dict[str, Any]:
            if record_path is not None:
                with open(record_path, "a", encoding="utf-8") as handle:
                    handle.write(f"{index}\n")
            return {name: torch.frombuffer(bytearray(rows.raw_row(index, name)), dtype=torch.int32).long()
                    for name in TENSORS}

    return PackedDataset()
