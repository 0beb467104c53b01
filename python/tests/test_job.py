import json
import os
import tempfile
import unittest

from llamamoe_hf.errors import BAD_JOB, GRADIENT_ACCUMULATION, LlamaMoeError
from llamamoe_hf.job import gradient_accumulation, load_job, parse_job
from tests.bundle_fixture import make_bundle


class JobTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()
        self.job_path = make_bundle(self.temp.name)
        with open(self.job_path) as handle:
            self.raw = json.load(handle)

    def tearDown(self) -> None:
        self.temp.cleanup()

    def test_valid_job_parses_and_resolves_paths_against_the_bundle_root(self) -> None:
        job = load_job(self.job_path)
        self.assertEqual(job.profile, "mixtral")
        self.assertEqual(job.training.global_batch, 4)
        self.assertEqual(job.executor.planned_world_size, 2)
        self.assertTrue(job.model_dir.endswith(os.path.join("bundle-0123456789ab", "model")))
        self.assertTrue(os.path.exists(job.manifest_path))
        self.assertEqual(job.run_dir("/out"), os.path.join("/out", "run-0123456789ab"))

    def assert_refused(self, code: str, key: str) -> None:
        with self.assertRaises(LlamaMoeError) as caught:
            parse_job(self.raw, self.job_path)
        self.assertEqual(caught.exception.code, code)
        self.assertEqual(caught.exception.key, key)
        self.assertIn(self.job_path, str(caught.exception))

    def test_the_dense_llama_profile_of_train_dense_parses(self) -> None:
        self.raw["profile"] = "llama"
        self.assertEqual(parse_job(self.raw, self.job_path).profile, "llama")

    def test_unknown_precision_is_refused_with_its_key(self) -> None:
        self.raw["training"]["precision"] = "fp8"
        self.assert_refused(BAD_JOB, "training.precision")

    def test_missing_learning_rate_is_refused(self) -> None:
        del self.raw["training"]["learning_rate"]
        self.assert_refused(BAD_JOB, "training.learning_rate")

    def test_wrong_schema_is_refused(self) -> None:
        self.raw["schema"] = 2
        self.assert_refused(BAD_JOB, "schema")

    def test_unknown_sharding_is_refused(self) -> None:
        self.raw["executor"]["sharding"] = "zero4"
        self.assert_refused(BAD_JOB, "executor.sharding")

    def test_invalid_freeze_regex_is_refused(self) -> None:
        self.raw["training"]["freeze"] = ["(unclosed"]
        self.assert_refused(BAD_JOB, "training.freeze[0]")

    def test_escaping_out_subdir_is_refused(self) -> None:
        self.raw["out_subdir"] = "../elsewhere"
        self.assert_refused(BAD_JOB, "out_subdir")

    def test_boolean_is_not_an_integer(self) -> None:
        self.raw["training"]["micro_batch"] = True
        self.assert_refused(BAD_JOB, "training.micro_batch")

    def test_planned_world_size_that_does_not_divide_the_batch_is_refused(self) -> None:
        self.raw["executor"]["gpus_per_node"] = 3
        self.assert_refused(GRADIENT_ACCUMULATION, "training.global_batch")

    def test_missing_file_is_a_bad_job(self) -> None:
        with self.assertRaises(LlamaMoeError) as caught:
            load_job(os.path.join(self.temp.name, "nope.json"))
        self.assertEqual(caught.exception.code, BAD_JOB)
        self.assertEqual(caught.exception.exit_code, 2)


class GradientAccumulationTests(unittest.TestCase):
    def test_accumulation_is_global_over_micro_times_world(self) -> None:
        self.assertEqual(gradient_accumulation(256, 2, 8), 16)
        self.assertEqual(gradient_accumulation(256, 2, 32), 4)
        self.assertEqual(gradient_accumulation(4, 1, 1), 4)

    def test_non_integer_accumulation_is_refused_with_the_world_sizes_that_work(self) -> None:
        with self.assertRaises(LlamaMoeError) as caught:
            gradient_accumulation(256, 2, 3)
        self.assertEqual(caught.exception.code, GRADIENT_ACCUMULATION)
        self.assertIn("[1, 2, 4, 8, 16, 32, 64, 128]", str(caught.exception))

    def test_zero_micro_batch_is_refused(self) -> None:
        with self.assertRaises(LlamaMoeError):
            gradient_accumulation(8, 0, 1)


if __name__ == "__main__":
    unittest.main()
