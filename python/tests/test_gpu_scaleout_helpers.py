"""The GPU check's verdict helpers (scripts/gpu_scaleout.py) pass good runs and fail bad ones, with the stdlib only."""

import contextlib
import importlib.util
import io
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from tests.bundle_fixture import make_bundle

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_scaleout.py"


def _load_helper():
    spec = importlib.util.spec_from_file_location("gpu_scaleout", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_helper(*args: str) -> "subprocess.CompletedProcess[str]":
    """The helper's main() in this process (a subprocess per call is too slow for the suite's time budget)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = _load_helper().main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), "")


def jsonl(path: Path, records: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@unittest.skipUnless(SCRIPT.exists(), "scripts/gpu_scaleout.py is not beside python/")
class GpuScaleoutHelperTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        self.root = Path(self.temp.name)

    def tearDown(self) -> None:
        self.temp.cleanup()

    def verdict(self, name: str) -> dict:
        return json.loads((self.root / name).read_text())

    def make_runs(self, resumed_loss_at_5: float) -> None:
        reference = [{"step": s, "loss": 1.0 / s} for s in range(1, 9)]
        jsonl(self.root / "ref" / "progress.jsonl", reference)
        resumed = self.root / "res"
        jsonl(resumed / "progress.jsonl", reference[:4] + [{"step": 5, "loss": resumed_loss_at_5}] + reference[5:])
        jsonl(resumed / "events.jsonl", [{"event": "start"}, {"event": "preempted", "step": 4},
                                         {"event": "start"}, {"event": "resume", "from_step": 4}, {"event": "done"}])
        (resumed / "checkpoints" / "checkpoint-4").mkdir(parents=True, exist_ok=True)
        (resumed / "checkpoints" / "checkpoint-4" / "COMPLETE").write_text("{}")
        (resumed / "DONE.json").write_text("{}")

    def test_losses_pass_when_equal_after_the_resume_and_fail_when_they_drift(self) -> None:
        self.make_runs(0.2)
        run_helper("losses", "--reference", str(self.root / "ref"), "--resumed", str(self.root / "res"),
                   "--out", str(self.root / "ok.json"))
        self.assertTrue(self.verdict("ok.json")["passed"])
        self.make_runs(0.2 + 1e-3)
        run_helper("losses", "--reference", str(self.root / "ref"), "--resumed", str(self.root / "res"),
                   "--out", str(self.root / "bad.json"))
        self.assertFalse(self.verdict("bad.json")["passed"])

    def test_rows_check_fails_when_a_rank_skipped_rows(self) -> None:
        bundle = Path(make_bundle(str(self.root / "b"), rows_per_shard=16, shards=2,
                                  training={"max_steps": 4, "global_batch": 4, "micro_batch": 1})).parent.parent
        run = self.root / "run"
        jsonl(run / "events.jsonl", [{"event": "resume", "from_step": 2}])
        # world 2, steps 0-1: rank r takes micro-batches r, r+2, ...; world 1, steps 2-3: rows 8..15
        (self.root / "p1.rank0").write_text("0\n2\n4\n6\n")
        (self.root / "p1.rank1").write_text("1\n3\n5\n7\n")
        (self.root / "p2.rank0").write_text("".join(f"{r}\n" for r in range(8, 16)))
        args = ["rows", "--bundle", str(bundle), "--run", str(run), "--phase1", str(self.root / "p1"),
                "--phase2", str(self.root / "p2"), "--world1", "2", "--world2", "1"]
        run_helper(*args, "--out", str(self.root / "ok.json"))
        self.assertTrue(self.verdict("ok.json")["passed"], self.verdict("ok.json"))
        (self.root / "p1.rank1").write_text("1\n3\n5\n9\n")
        run_helper(*args, "--out", str(self.root / "bad.json"))
        self.assertFalse(self.verdict("bad.json")["passed"])

    def test_report_fails_on_a_failed_or_missing_result(self) -> None:
        results = self.root / "results"
        results.mkdir()
        (results / "1-a.json").write_text(json.dumps({"check": "a", "passed": True}))
        self.assertEqual(run_helper("report", "--results", str(results), "--expect", "1-a.json").returncode, 0)
        self.assertEqual(run_helper("report", "--results", str(results), "--expect", "1-a.json", "2-b.json").returncode, 1)
        (results / "2-b.json").write_text(json.dumps({"check": "b", "passed": False}))
        result = run_helper("report", "--results", str(results), "--expect", "1-a.json", "2-b.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn("RESULT: FAIL", result.stdout)

    def test_derive_rewrites_job_json_and_its_digest_without_touching_the_source(self) -> None:
        job = make_bundle(str(self.root / "b"))
        source = Path(job).parent.parent
        before = (source / "config" / "job.json").read_text()
        run_helper("derive", "--bundle", str(source), "--out", str(self.root / "d"), "--set", "training.max_steps=200")
        derived = json.loads((self.root / "d" / "config" / "job.json").read_text())
        self.assertEqual(derived["training"]["max_steps"], 200)
        self.assertEqual((source / "config" / "job.json").read_text(), before)
        sys.path.insert(0, str(SCRIPT.parents[1] / "python"))
        from llamamoe_hf.preflight import Report, check_bundle
        report = Report()
        check_bundle(str(self.root / "d"), report)
        self.assertEqual(report.failures, [])


if __name__ == "__main__":
    unittest.main()
