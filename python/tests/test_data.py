import os
import struct
import tempfile
import unittest

from llamamoe_hf.data import (PackedRows, SequentialRankSampler, count_tokens, load_manifest, rank_micro_batches,
                              step_rows)
from llamamoe_hf.errors import BAD_DATA, LlamaMoeError
from llamamoe_hf.safetensors_io import SafetensorsFile, pack, write_safetensors
from tests.bundle_fixture import make_bundle


class SafetensorsReaderTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.temp.name, "t.safetensors")

    def tearDown(self) -> None:
        self.temp.cleanup()

    def test_round_trip_of_int32_and_float32_tensors_with_metadata(self) -> None:
        write_safetensors(self.path, {"a": ("I32", (2, 3), pack("i", [1, -2, 3, 4, 5, -100])),
                                      "b": ("F32", (2,), pack("f", [0.5, -1.25]))}, {"format": "pt"})
        with SafetensorsFile(self.path) as handle:
            self.assertEqual(handle.info("a").shape, (2, 3))
            self.assertEqual(handle.row("a", 1), [4, 5, -100])
            self.assertEqual(list(handle.array("b")), [0.5, -1.25])
            self.assertEqual(handle.metadata, {"format": "pt"})

    def test_reads_a_file_laid_out_by_hand_as_the_format_specifies(self) -> None:
        header = b'{"x":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}'
        with open(self.path, "wb") as handle:
            handle.write(struct.pack("<Q", len(header)) + header + struct.pack("<ii", 7, -9))
        with SafetensorsFile(self.path) as handle:
            self.assertEqual(list(handle.array("x")), [7, -9])

    def test_truncated_file_is_refused(self) -> None:
        write_safetensors(self.path, {"a": ("I32", (4,), pack("i", [1, 2, 3, 4]))})
        with open(self.path, "r+b") as handle:
            handle.truncate(os.path.getsize(self.path) - 4)
        with self.assertRaises(LlamaMoeError) as caught:
            SafetensorsFile(self.path)
        self.assertEqual(caught.exception.code, BAD_DATA)

    def test_offsets_that_disagree_with_the_shape_are_refused(self) -> None:
        header = b'{"x":{"dtype":"I32","shape":[3],"data_offsets":[0,8]}}'
        with open(self.path, "wb") as handle:
            handle.write(struct.pack("<Q", len(header)) + header + b"\0" * 8)
        with self.assertRaises(LlamaMoeError):
            SafetensorsFile(self.path)

    def test_missing_tensor_names_the_ones_present(self) -> None:
        write_safetensors(self.path, {"a": ("I32", (1,), pack("i", [1]))})
        with SafetensorsFile(self.path) as handle, self.assertRaises(LlamaMoeError) as caught:
            handle.info("labels")
        self.assertIn("['a']", str(caught.exception))


class PackedDataTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        job = make_bundle(self.temp.name, rows_per_shard=5, shards=3, seq_len=6)
        self.manifest = load_manifest(os.path.join(os.path.dirname(os.path.dirname(job)), "data", "manifest.json"))

    def tearDown(self) -> None:
        self.temp.cleanup()

    def test_global_rows_span_shards_in_manifest_order(self) -> None:
        with PackedRows(self.manifest.shards, self.manifest.seq_len) as rows:
            self.assertEqual(len(rows), 15)
            self.assertEqual(rows.row(0)["input_ids"][0], 1)
            self.assertEqual(rows.row(7)["input_ids"][:2], [7001, 7002])
            self.assertEqual(rows.row(14)["labels"], [-100, 14002, 14003, 14004, -100, -100])
            with self.assertRaises(IndexError):
                rows.row(15)

    def test_non_pad_tokens_are_counted(self) -> None:
        with PackedRows(self.manifest.shards, self.manifest.seq_len) as rows:
            self.assertEqual(count_tokens(rows.row(3)["input_ids"], self.manifest.pad_id), 4)

    def test_shard_with_the_wrong_shape_is_refused(self) -> None:
        path = self.manifest.shards[0].path
        write_safetensors(path, {n: ("I32", (5, 5), pack("i", [0] * 25)) for n in ("input_ids", "labels", "position_ids")})
        with self.assertRaises(LlamaMoeError) as caught:
            PackedRows(self.manifest.shards, self.manifest.seq_len)
        self.assertEqual(caught.exception.code, BAD_DATA)


class DataOrderTests(unittest.TestCase):
    def consumed_per_step(self, world: int, micro: int, steps: int, global_batch: int = 16) -> list:
        accumulation = global_batch // (micro * world)
        per_step = []
        for step in range(steps):
            rows = set()
            for rank in range(world):
                for batch in rank_micro_batches(step, rank, world, micro, accumulation):
                    rows.update(batch)
            per_step.append(sorted(rows))
        return per_step

    def test_each_step_consumes_the_same_rows_at_every_world_size(self) -> None:
        reference = self.consumed_per_step(1, 2, 5)
        for world, micro in ((2, 2), (4, 1), (8, 2), (16, 1)):
            self.assertEqual(self.consumed_per_step(world, micro, 5), reference, f"world {world}")
        self.assertEqual(reference[3], list(step_rows(3, 16)))

    def test_ranks_get_disjoint_interleaved_micro_batches(self) -> None:
        self.assertEqual(rank_micro_batches(0, 1, 4, 1, 2), [[1], [5]])
        self.assertEqual(rank_micro_batches(1, 0, 2, 2, 1), [[4, 5]])

    def test_resume_skips_exactly_the_consumed_steps(self) -> None:
        full = list(SequentialRankSampler(64, 1, 2, 2, 2, start_step=0, max_steps=6).steps())
        resumed = list(SequentialRankSampler(64, 1, 2, 2, 2, start_step=4, max_steps=6).steps())
        self.assertEqual(resumed, full[4:])
        self.assertEqual([s for s, _ in resumed], [4, 5])

    def test_sampler_wraps_to_the_next_epoch_over_whole_steps(self) -> None:
        sampler = SequentialRankSampler(10, 0, 1, 4, 1, start_step=0, max_steps=3)
        self.assertEqual(sampler.per_epoch, 2)
        self.assertEqual(list(sampler), [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3])

    def test_too_few_rows_for_one_global_batch_is_refused(self) -> None:
        with self.assertRaises(LlamaMoeError):
            SequentialRankSampler(3, 0, 1, 4, 1)


if __name__ == "__main__":
    unittest.main()
