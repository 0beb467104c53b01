import json
import os
import tempfile
import unittest

from llamamoe_hf import checkpoints as ckpt
from llamamoe_hf.finish import compare_logits, digest_tree, read_done, write_done, write_json_atomic
from llamamoe_hf.preflight import sha256_file


class CheckpointSelectionTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.temp.name, "checkpoints")

    def tearDown(self) -> None:
        self.temp.cleanup()

    def make(self, step: int, complete: bool) -> str:
        path = os.path.join(self.dir, f"checkpoint-{step}")
        os.makedirs(path)
        with open(os.path.join(path, "model.safetensors"), "w") as handle:
            handle.write("x")
        if complete:
            ckpt.mark_complete(path, step)
        return path

    def test_no_folder_means_no_checkpoint(self) -> None:
        self.assertIsNone(ckpt.newest_complete(self.dir))

    def test_newest_complete_wins_over_older_complete_ones(self) -> None:
        self.make(2, True)
        self.make(10, True)
        self.make(4, True)
        found = ckpt.newest_complete(self.dir)
        assert found is not None
        self.assertEqual(found.step, 10)

    def test_newer_incomplete_checkpoints_are_skipped_and_logged(self) -> None:
        self.make(4, True)
        torn = self.make(6, False)
        os.makedirs(os.path.join(self.dir, "checkpoint-8"))
        os.makedirs(os.path.join(self.dir, "not-a-checkpoint"))
        logged = []
        found = ckpt.newest_complete(self.dir, log=logged.append)
        assert found is not None
        self.assertEqual(found.step, 4)
        self.assertEqual(len(logged), 2)
        self.assertIn(torn, logged[1])

    def test_only_incomplete_checkpoints_means_start_over(self) -> None:
        self.make(2, False)
        self.assertIsNone(ckpt.newest_complete(self.dir))

    def test_marker_records_the_step(self) -> None:
        path = self.make(3, True)
        with open(os.path.join(path, ckpt.MARKER)) as handle:
            self.assertEqual(json.load(handle)["step"], 3)

    def test_prune_keeps_the_newest_complete_and_drops_stale_torn_ones(self) -> None:
        for step in (2, 4, 6):
            self.make(step, True)
        self.make(5, False)
        self.make(8, False)
        ckpt.prune(self.dir, keep=2)
        self.assertEqual([(c.step, c.complete) for c in ckpt.list_checkpoints(self.dir)],
                         [(4, True), (6, True), (8, False)])


class DoneTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        self.run = os.path.join(self.temp.name, "run-x")
        os.makedirs(os.path.join(self.run, "final", "sub"))
        for rel, text in (("config.json", "{}"), ("sub/model.safetensors", "weights")):
            with open(os.path.join(self.run, "final", rel), "w") as handle:
                handle.write(text)

    def tearDown(self) -> None:
        self.temp.cleanup()

    def test_done_lists_the_sha256_of_every_final_file_by_relative_path(self) -> None:
        done = write_done(self.run, 12)
        self.assertEqual(done["status"], "done")
        self.assertEqual(done["final_step"], 12)
        self.assertEqual(sorted(done["files"]), ["config.json", "sub/model.safetensors"])
        self.assertEqual(done["files"]["sub/model.safetensors"],
                         sha256_file(os.path.join(self.run, "final", "sub", "model.safetensors")))
        self.assertEqual(read_done(self.run), done)

    def test_atomic_write_leaves_no_temp_file_and_replaces_the_old_content(self) -> None:
        path = os.path.join(self.run, "DONE.json")
        write_json_atomic(path, {"a": 1})
        write_json_atomic(path, {"a": 2})
        self.assertEqual(sorted(os.listdir(self.run)), ["DONE.json", "final"])
        with open(path) as handle:
            self.assertEqual(json.load(handle), {"a": 2})

    def test_a_failed_write_keeps_the_previous_done_intact(self) -> None:
        path = os.path.join(self.run, "DONE.json")
        write_json_atomic(path, {"a": 1})
        with self.assertRaises(ValueError):
            write_json_atomic(path, {"a": float("nan")})
        with open(path) as handle:
            self.assertEqual(json.load(handle), {"a": 1})

    def test_no_done_file_reads_as_none(self) -> None:
        self.assertIsNone(read_done(self.run))

    def test_digest_tree_changes_when_a_file_changes(self) -> None:
        before = digest_tree(os.path.join(self.run, "final"))
        with open(os.path.join(self.run, "final", "config.json"), "w") as handle:
            handle.write("{ }")
        self.assertNotEqual(before["config.json"], digest_tree(os.path.join(self.run, "final"))["config.json"])


class ProbeComparisonTests(unittest.TestCase):
    def test_within_tolerance_passes_and_reports_the_largest_differences(self) -> None:
        result = compare_logits([1.0, 2.001, -3.0], [1.0, 2.0, -3.0], rtol=1e-3, atol=1e-5)
        self.assertTrue(result["passed"])
        self.assertAlmostEqual(result["max_abs_diff"], 0.001, places=9)
        self.assertAlmostEqual(result["max_rel_diff"], 0.0005, places=9)

    def test_outside_tolerance_fails(self) -> None:
        self.assertFalse(compare_logits([1.1], [1.0], rtol=1e-3, atol=1e-3)["passed"])

    def test_nan_fails_and_shape_mismatch_fails(self) -> None:
        self.assertFalse(compare_logits([float("nan")], [1.0], 1.0, 1.0)["passed"])
        self.assertFalse(compare_logits([1.0], [1.0, 2.0], 1.0, 1.0)["passed"])


if __name__ == "__main__":
    unittest.main()
