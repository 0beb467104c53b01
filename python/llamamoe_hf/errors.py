"""Coded errors of the Python side (codes reserved by the issue-12 contract: LMOE3410-3415, 3422, 3423, 3429)."""

from __future__ import annotations

from typing import Optional

PREFLIGHT = "LMOE3410"
"""Preflight failed: versions, GPUs, all-reduce, bundle digests or free space."""
BAD_JOB = "LMOE3411"
"""config/job.json is missing, unreadable or malformed."""
GRADIENT_ACCUMULATION = "LMOE3412"
"""global_batch is not a multiple of micro_batch x world size."""
BAD_DATA = "LMOE3413"
"""A data shard or manifest is missing, malformed or disagrees with the manifest."""
BAD_CHECKPOINT = "LMOE3414"
"""A checkpoint cannot be resumed from."""
BAD_MODEL = "LMOE3415"
"""The bundle's model directory or llamamoe.json is malformed (profile, folds)."""
NON_FINITE = "LMOE3422"
"""The loss or gradient norm became NaN or infinite."""
CUDA_OOM = "LMOE3423"
"""CUDA ran out of memory."""
INTERNAL = "LMOE3429"
"""An unexpected failure of the trainer itself."""

EXIT_OK = 0
EXIT_BAD_JOB = 2
EXIT_PREFLIGHT = 3
EXIT_NON_FINITE = 4
EXIT_FAILED = 1


class LlamaMoeError(Exception):
    """A user-facing failure with a stable LMOE code, the file and key it concerns, and what to do about it."""

    def __init__(self, code: str, message: str, path: Optional[str] = None, key: Optional[str] = None,
                 advice: Optional[str] = None) -> None:
        self.code = code
        self.message = message
        self.path = path
        self.key = key
        self.advice = advice
        super().__init__(self.render())

    def render(self) -> str:
        """One line: `LMOE#### path: key: message. advice`."""
        where = ""
        if self.path:
            where += f"{self.path}: "
        if self.key:
            where += f"{self.key}: "
        text = f"{self.code} {where}{self.message}"
        if self.advice:
            text += f" {self.advice}"
        return text

    @property
    def exit_code(self) -> int:
        """The entry point's exit status for this error (see the contract)."""
        if self.code == PREFLIGHT:
            return EXIT_PREFLIGHT
        if self.code == NON_FINITE:
            return EXIT_NON_FINITE
        if self.code in (BAD_JOB, GRADIENT_ACCUMULATION):
            return EXIT_BAD_JOB
        return EXIT_FAILED
