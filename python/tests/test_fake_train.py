import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Dict, List, Optional
from unittest import mock

from llamamoe_hf import fake_train

from llamamoe_hf.callbacks import read_jsonl
from llamamoe_hf.finish import digest_tree
from llamamoe_hf.safetensors_io import SafetensorsFile
from tests.bundle_fixture import make_bundle

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FakeTrainerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        self.job = make_bundle(os.path.join(self.temp.name, "b"), training={"max_steps": 8, "save_steps": 3})
        self.out = os.path.join(self.temp.name, "out")
        self.run_dir = os.path.join(self.out, "run-0123456789ab")

    def tearDown(self) -> None:
        self.temp.cleanup()

    def env(self, **knobs: str) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMAMOE_FAKE_")}
        env["PYTHONPATH"] = PACKAGE_ROOT
        env.setdefault("LLAMAMOE_FAKE_STEP_SECONDS", "0.005")
        env.update(knobs)
        return env

    def start(self, out: Optional[str] = None, **knobs: str) -> "subprocess.Popen[str]":
        return subprocess.Popen([sys.executable, "-m", "llamamoe_hf.fake_train", "--job", self.job, "--out",
                                 out or self.out], env=self.env(**knobs), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def run_to_end(self, out: Optional[str] = None, **knobs: str) -> "subprocess.CompletedProcess[str]":
        """fake_train.main in this process (fast); knobs that kill the process run it as a subprocess instead."""
        if "LLAMAMOE_FAKE_EXIT_AT_STEP" in knobs:
            process = self.start(out, **knobs)
            stdout, stderr = process.communicate(timeout=60)
            return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        stdout, stderr = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, self.env(**knobs), clear=True), \
                contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = fake_train.main(["--job", self.job, "--out", out or self.out])
        return subprocess.CompletedProcess([], code, stdout.getvalue(), stderr.getvalue())

    def events(self, run_dir: Optional[str] = None) -> List[str]:
        return [e["event"] for e in read_jsonl(os.path.join(run_dir or self.run_dir, "events.jsonl"))]

    def losses(self, run_dir: Optional[str] = None) -> List[float]:
        with open(os.path.join(run_dir or self.run_dir, "final", "metrics.json")) as handle:
            return [h["loss"] for h in json.load(handle)["log_history"]]

    def test_a_full_run_speaks_the_output_contract(self) -> None:
        result = self.run_to_end()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.events(), ["start", "checkpoint", "checkpoint", "done"])
        progress = read_jsonl(os.path.join(self.run_dir, "progress.jsonl"))
        self.assertEqual([p["step"] for p in progress], list(range(1, 9)))
        self.assertEqual(result.stdout.count("LMOE_PROGRESS {"), 8)
        self.assertEqual(progress[-1]["tokens_seen"], 8 * 4 * 6)  # 8 steps x 4 rows x 6 non-pad tokens
        with open(os.path.join(self.run_dir, "DONE.json")) as handle:
            done = json.load(handle)
        self.assertEqual(done["final_step"], 8)
        self.assertEqual(done["files"], digest_tree(os.path.join(self.run_dir, "final")))
        self.assertIn("model.safetensors", done["files"])
        self.assertIn("probe-result.json", done["files"])
        with open(os.path.join(self.run_dir, "final", "probe-result.json")) as handle:
            self.assertTrue(json.load(handle)["passed"])
        with SafetensorsFile(os.path.join(self.run_dir, "final", "probe-logits.safetensors")) as logits:
            self.assertEqual(logits.info("logits").shape, (1, 3, 5))
        checkpoints = sorted(os.listdir(os.path.join(self.run_dir, "checkpoints")))
        self.assertEqual(checkpoints, ["checkpoint-3", "checkpoint-6"])
        self.assertTrue(os.path.exists(os.path.join(self.run_dir, "checkpoints", "checkpoint-6", "COMPLETE")))
        self.assertTrue(os.path.exists(os.path.join(self.run_dir, "heartbeat")))
        # a finished run is not trained again
        self.assertEqual(self.run_to_end().returncode, 0)
        self.assertEqual(self.events(), ["start", "checkpoint", "checkpoint", "done"])

    def test_sigusr1_checkpoints_and_stops_then_a_rerun_resumes_to_the_same_losses(self) -> None:
        process = self.start(LLAMAMOE_FAKE_STEP_SECONDS="0.05")
        heartbeat = os.path.join(self.run_dir, "heartbeat")
        deadline = time.time() + 30
        while not os.path.exists(heartbeat) and time.time() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGUSR1)
        _, stderr = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 0, stderr)
        events = read_jsonl(os.path.join(self.run_dir, "events.jsonl"))
        self.assertEqual(events[-1]["event"], "preempted")
        stopped_at = events[-1]["step"]
        self.assertLess(stopped_at, 8)
        self.assertTrue(os.path.exists(os.path.join(self.run_dir, "checkpoints", f"checkpoint-{stopped_at}", "COMPLETE")))
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, "DONE.json")))

        resumed = self.run_to_end()
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        resume = [e for e in read_jsonl(os.path.join(self.run_dir, "events.jsonl")) if e["event"] == "resume"]
        self.assertEqual(resume[0]["from_step"], stopped_at)
        uninterrupted = os.path.join(self.temp.name, "out2")
        self.assertEqual(self.run_to_end(uninterrupted).returncode, 0)
        self.assertEqual(self.losses(), self.losses(os.path.join(uninterrupted, "run-0123456789ab")))

    def test_the_preempt_knob_checkpoints_and_stops_once_then_a_rerun_resumes_past_it(self) -> None:
        first = self.run_to_end(LLAMAMOE_FAKE_PREEMPT_AT_STEP="5")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(self.events()[-2:], ["checkpoint", "preempted"])
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, "DONE.json")))
        second = self.run_to_end(LLAMAMOE_FAKE_PREEMPT_AT_STEP="5")
        self.assertEqual(second.returncode, 0, second.stderr)
        resume = [e for e in read_jsonl(os.path.join(self.run_dir, "events.jsonl")) if e["event"] == "resume"]
        self.assertEqual(resume[0]["from_step"], 5)
        self.assertEqual(self.events()[-1], "done")

    def test_resume_skips_a_torn_newer_checkpoint(self) -> None:
        self.assertEqual(self.run_to_end(LLAMAMOE_FAKE_EXIT_AT_STEP="7").returncode, 137)
        os.makedirs(os.path.join(self.run_dir, "checkpoints", "checkpoint-7"))
        result = self.run_to_end()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("skipping incomplete checkpoint", result.stderr)
        resume = [e for e in read_jsonl(os.path.join(self.run_dir, "events.jsonl")) if e["event"] == "resume"]
        self.assertEqual(resume[0]["from_step"], 6)

    def test_nan_loss_exits_4_with_an_error_event_and_no_checkpoint_for_that_step(self) -> None:
        result = self.run_to_end(LLAMAMOE_FAKE_NAN_AT_STEP="6")
        self.assertEqual(result.returncode, 4)
        events = read_jsonl(os.path.join(self.run_dir, "events.jsonl"))
        self.assertEqual((events[-1]["event"], events[-1]["code"], events[-1]["step"]), ("error", "LMOE3422", 6))
        self.assertEqual(sorted(os.listdir(os.path.join(self.run_dir, "checkpoints"))), ["checkpoint-3"])

    def test_corrupt_digest_and_nan_weight_knobs_spoil_the_result_the_importer_must_refuse(self) -> None:
        self.assertEqual(self.run_to_end(LLAMAMOE_FAKE_CORRUPT_DIGEST="1", LLAMAMOE_FAKE_NAN_WEIGHTS="1").returncode, 0)
        with open(os.path.join(self.run_dir, "DONE.json")) as handle:
            listed = json.load(handle)["files"]
        actual = digest_tree(os.path.join(self.run_dir, "final"))
        self.assertEqual(sorted(listed), sorted(actual))
        self.assertEqual(sum(listed[k] != actual[k] for k in actual), 1)
        with SafetensorsFile(os.path.join(self.run_dir, "final", "model.safetensors")) as handle:
            values = [v for name in handle.tensors for v in handle.array(name)]
        self.assertTrue(any(v != v for v in values))

    def test_preflight_failure_exits_3_and_a_tampered_bundle_fails_preflight(self) -> None:
        self.assertEqual(self.run_to_end(LLAMAMOE_FAKE_PREFLIGHT_FAIL="1").returncode, 3)
        self.assertEqual(read_jsonl(os.path.join(self.run_dir, "events.jsonl"))[-1]["code"], "LMOE3410")
        with open(os.path.join(os.path.dirname(os.path.dirname(self.job)), "data", "manifest.json"), "a") as handle:
            handle.write("\n")
        self.assertEqual(self.run_to_end(os.path.join(self.temp.name, "o3")).returncode, 3)

    def test_a_malformed_job_exits_2(self) -> None:
        with open(self.job, "w") as handle:
            handle.write("{not json")
        self.assertEqual(self.run_to_end().returncode, 2)


if __name__ == "__main__":
    unittest.main()
