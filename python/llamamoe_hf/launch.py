"""Signal relay for torchrun: `python -m llamamoe_hf.launch [--grace S] -- torchrun ... -m llamamoe_hf.train ...`.

torchrun's agent handles SIGTERM/SIGINT/SIGHUP/SIGQUIT but not SIGUSR1, whose default action kills the agent and
orphans the workers; on SIGTERM it terminates the workers and kills them 30 s later, possibly mid-checkpoint. This
relay runs the launcher as its child and, on SIGUSR1 or SIGTERM, sends SIGUSR1 to the launcher's descendants (the
training workers), which checkpoint at the next step boundary, write `preempted` and exit 0; the launcher then exits
by itself. If it has not exited `--grace` seconds later (default 600), the relay sends it SIGTERM. The exit status is
the launcher's. Use it where a scheduler signals the job step (Slurm's `--signal`, a Kubernetes preStop hook).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Dict, List, Optional


def children_map() -> Dict[int, List[int]]:
    """parent pid -> child pids, from /proc (Linux)."""
    tree: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "r", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(pid: int) -> List[int]:
    """Every process below `pid` (not `pid` itself), parents before children."""
    tree = children_map()
    found: List[int] = []
    pending = list(tree.get(pid, []))
    while pending:
        current = pending.pop(0)
        found.append(current)
        pending.extend(tree.get(current, []))
    return found


class Relay:
    def __init__(self, child: "subprocess.Popen[bytes]", grace: float) -> None:
        self.child = child
        self.grace = grace
        self.signalled_at: Optional[float] = None

    def handle(self, signum: int, frame: Optional[FrameType]) -> None:
        workers = descendants(self.child.pid)
        for pid in workers:
            try:
                os.kill(pid, signal.SIGUSR1)
            except ProcessLookupError:
                pass
        print(f"llamamoe_hf.launch: signal {signum}: SIGUSR1 to {len(workers)} worker process(es) {workers}",
              file=sys.stderr, flush=True)
        if self.signalled_at is None:
            self.signalled_at = time.monotonic()
            threading.Thread(target=self._escalate, daemon=True).start()

    def _escalate(self) -> None:
        assert self.signalled_at is not None
        while self.child.poll() is None:
            if time.monotonic() - self.signalled_at > self.grace:
                print("llamamoe_hf.launch: grace period over, SIGTERM to the launcher", file=sys.stderr, flush=True)
                self.child.terminate()
                return
            time.sleep(0.2)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llamamoe_hf.launch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grace", type=float, default=600.0, help="seconds before SIGTERM to the launcher")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the launcher command line")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the launcher command after --")
    child = subprocess.Popen(command)
    relay = Relay(child, args.grace)
    for signum in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(signum, relay.handle)
    while True:
        try:
            return child.wait()
        except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
            continue


if __name__ == "__main__":
    sys.exit(main())
