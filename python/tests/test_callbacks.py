import io
import json
import math
import os
import signal
import tempfile
import unittest

from llamamoe_hf.callbacks import PROGRESS_PREFIX, RunWriter, StopFlag, Throughput, check_finite, read_jsonl
from llamamoe_hf.errors import NON_FINITE, LlamaMoeError


class RunWriterTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        self.stdout = io.StringIO()
        self.writer = RunWriter(os.path.join(self.temp.name, "run-x"), stdout=self.stdout)

    def tearDown(self) -> None:
        self.temp.cleanup()

    def test_progress_goes_to_the_file_and_to_stdout_with_every_contract_key(self) -> None:
        self.writer.progress(step=3, max_steps=10, epoch=0.3, loss=2.5, lr=1e-4, grad_norm=0.7, tokens_seen=96,
                             tok_s_gpu=1000.0, mfu=0.31, mem_gb=1.5)
        records = read_jsonl(self.writer.progress_path)
        self.assertEqual(len(records), 1)
        self.assertEqual(set(records[0]), {"v", "step", "max_steps", "epoch", "loss", "lr", "grad_norm",
                                           "tokens_seen", "tok_s_gpu", "mfu", "mem_gb", "ts"})
        self.assertEqual(records[0]["v"], 1)
        line = self.stdout.getvalue().strip()
        self.assertTrue(line.startswith(PROGRESS_PREFIX))
        self.assertEqual(json.loads(line[len(PROGRESS_PREFIX):]), records[0])

    def test_non_finite_progress_values_become_null_so_the_line_stays_json(self) -> None:
        self.writer.progress(step=1, loss=math.inf)
        self.assertIsNone(read_jsonl(self.writer.progress_path)[0]["loss"])

    def test_unknown_progress_key_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            self.writer.progress(step=1, temperature=3)

    def test_events_append_in_order_with_version_and_timestamp(self) -> None:
        self.writer.event("start", step=0)
        self.writer.event("resume", from_step=4)
        self.writer.error(LlamaMoeError(NON_FINITE, "loss is nan"), step=5)
        events = read_jsonl(self.writer.events_path)
        self.assertEqual([e["event"] for e in events], ["start", "resume", "error"])
        self.assertEqual(events[1]["from_step"], 4)
        self.assertEqual(events[2]["code"], "LMOE3422")
        self.assertTrue(all(e["v"] == 1 and e["ts"].endswith("Z") for e in events))

    def test_unknown_event_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            self.writer.event("finished")

    def test_heartbeat_is_rewritten_each_step(self) -> None:
        self.writer.heartbeat(1)
        self.writer.heartbeat(2)
        with open(self.writer.heartbeat_path) as handle:
            self.assertTrue(handle.read().startswith("2 "))

    def test_non_zero_ranks_write_nothing(self) -> None:
        quiet = RunWriter(os.path.join(self.temp.name, "run-y"), is_writer=False, stdout=self.stdout)
        quiet.event("start")
        quiet.progress(step=1)
        self.assertFalse(os.path.exists(quiet.run_dir))
        self.assertEqual(self.stdout.getvalue(), "")

    def test_a_torn_last_line_is_ignored_by_the_reader(self) -> None:
        self.writer.event("start")
        with open(self.writer.events_path, "a") as handle:
            handle.write('{"v":1,"ev')
        self.assertEqual(len(read_jsonl(self.writer.events_path)), 1)


class GuardTests(unittest.TestCase):
    def test_nan_loss_raises_the_nan_code(self) -> None:
        with self.assertRaises(LlamaMoeError) as caught:
            check_finite(7, math.nan, 1.0)
        self.assertEqual(caught.exception.code, NON_FINITE)
        self.assertEqual(caught.exception.exit_code, 4)
        self.assertIn("step 7", str(caught.exception))

    def test_infinite_grad_norm_raises(self) -> None:
        with self.assertRaises(LlamaMoeError):
            check_finite(1, 2.0, math.inf)

    def test_finite_values_and_missing_values_pass(self) -> None:
        check_finite(1, 2.0, None)
        check_finite(1, None, 0.5)

    def test_sigusr1_and_sigterm_set_the_stop_flag(self) -> None:
        for signum in (signal.SIGUSR1, signal.SIGTERM):
            flag = StopFlag().install()
            try:
                self.assertFalse(flag.requested)
                os.kill(os.getpid(), signum)
                self.assertTrue(flag.requested)
                self.assertEqual(flag.signal_number, signum)
            finally:
                flag.uninstall()
        self.assertIs(signal.getsignal(signal.SIGTERM), signal.SIG_DFL)

    def test_throughput_is_tokens_per_second_per_gpu_and_mfu_against_peak(self) -> None:
        now = [0.0]
        rates = Throughput(flops_per_token=6e9, peak_flops=1e15, world_size=4, clock=lambda: now[0])
        now[0] = 2.0
        sample = rates.sample(80_000)
        self.assertAlmostEqual(sample["tok_s_gpu"] or 0, 10_000.0)
        self.assertAlmostEqual(sample["mfu"] or 0, 0.06)

    def test_throughput_after_a_resume_counts_only_the_new_window(self) -> None:
        now = [10.0]
        rates = Throughput(flops_per_token=1.0, peak_flops=0.0, world_size=1, clock=lambda: now[0])
        rates.restart(1_000_000)
        now[0] = 11.0
        self.assertAlmostEqual(rates.sample(1_000_500)["tok_s_gpu"] or 0, 500.0)
        self.assertIsNone(rates.sample(1_000_600)["mfu"])


if __name__ == "__main__":
    unittest.main()
