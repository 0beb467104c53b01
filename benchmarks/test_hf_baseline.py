"""Tests of hf_baseline.py that need only the standard library (the real run is skipped without torch).

Run: python3 -m unittest discover -s benchmarks -p 'test_hf_baseline.py'
Not part of the .NET test run or CI.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import hf_baseline  # noqa: E402 - after the path tweak
import hf_generate  # noqa: E402

HAS_TORCH = all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers"))
REQUIRED_KEYS = {"system", "model", "precision", "tokens_per_second", "step_ms"}


class ArgumentTests(unittest.TestCase):
    def test_defaults_match_the_dotnet_benchmark(self) -> None:
        args = hf_baseline.parse_args([])
        self.assertEqual(args.shape, "full")
        self.assertEqual((args.steps, args.warmup), (30, 5))
        self.assertEqual(args.models, ["dense", "moe"])
        self.assertEqual(args.precisions, ["float32", "tf32", "bfloat16"])
        self.assertEqual(args.attn, ["sdpa"])
        self.assertTrue(args.eval)

    def test_lists_are_validated_and_deduplicated(self) -> None:
        args = hf_baseline.parse_args(["--precisions", "bfloat16,tf32,bfloat16", "--attn", "sdpa,eager"])
        self.assertEqual(args.precisions, ["bfloat16", "tf32"])
        self.assertEqual(args.attn, ["sdpa", "eager"])
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            hf_baseline.parse_args(["--precisions", "float16"])
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            hf_baseline.parse_args(["--steps", "0"])


class ConfigTests(unittest.TestCase):
    def test_full_shape_is_the_gpu_notes_shape(self) -> None:
        shape = hf_baseline.SHAPES["full"]
        self.assertEqual((shape.vocab, shape.hidden, shape.layers, shape.heads, shape.intermediate), (320, 1024, 8, 16, 4096))
        self.assertEqual((shape.seq, shape.batch, shape.experts, shape.top_k, shape.expert_size), (1024, 16, 8, 2, 512))
        self.assertEqual(shape.tokens_per_step, 16 * 1024)

    def test_dense_config(self) -> None:
        kwargs = hf_baseline.config_kwargs(hf_baseline.SHAPES["full"], "dense")
        self.assertEqual(kwargs["intermediate_size"], 4096)
        self.assertEqual(kwargs["num_key_value_heads"], 16)
        self.assertFalse(kwargs["tie_word_embeddings"])
        self.assertNotIn("num_local_experts", kwargs)

    def test_mixtral_config(self) -> None:
        kwargs = hf_baseline.config_kwargs(hf_baseline.SHAPES["full"], "moe")
        self.assertEqual(kwargs["intermediate_size"], 512)
        self.assertEqual((kwargs["num_local_experts"], kwargs["num_experts_per_tok"]), (8, 2))
        self.assertFalse(kwargs["tie_word_embeddings"])
        self.assertTrue(kwargs["output_router_logits"])

    def test_plan_runs_every_precision_then_eval_per_model(self) -> None:
        cases = hf_baseline.plan(hf_baseline.parse_args(["--experts", "grouped_mm,eager"]))
        train = [c for c in cases if c.task == "train"]
        self.assertEqual(len(train), 3 + 3 * 2)
        self.assertEqual({c.experts for c in train if c.model == "dense"}, {"default"})
        self.assertEqual([c.model for c in cases if c.task == "eval"], ["dense", "moe"])
        self.assertEqual(len(hf_baseline.plan(hf_baseline.parse_args(["--no-eval", "--models", "moe"]))), 3)


class OutputTests(unittest.TestCase):
    def test_json_line_has_the_fields_the_dotnet_side_reads(self) -> None:
        result = hf_baseline.Result("hf-transformers", "moe", "bfloat16", "train", 128246.5, 127.7, "sdpa", "grouped_mm", 30, 5, 16, 1024)
        line = hf_baseline.to_json_line(result)
        self.assertNotIn("\n", line)
        parsed = json.loads(line)
        self.assertTrue(REQUIRED_KEYS <= parsed.keys())
        self.assertEqual(parsed["tokens_per_second"], 128246.5)
        self.assertIsNone(parsed["error"])

    def test_nan_is_refused(self) -> None:
        result = hf_baseline.Result("hf-transformers", "dense", "float32", "train", float("nan"), 0.0, "sdpa", "-", 1, 1, 1, 2)
        with self.assertRaises(ValueError):
            hf_baseline.to_json_line(result)

    def test_dry_run_prints_one_json_object_per_case(self) -> None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(hf_baseline.main(["--dry-run", "--shape", "small"]), 0)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        self.assertEqual(len(lines), 8)
        self.assertEqual(lines[0]["dims"]["hidden"], 128)

    def test_importing_the_module_does_not_import_torch(self) -> None:
        code = "import sys; sys.path.insert(0, sys.argv[1]); import hf_baseline, hf_generate; print('torch' in sys.modules)"
        output = subprocess.run([sys.executable, "-c", code, HERE], capture_output=True, text=True, check=True).stdout
        self.assertEqual(output.strip(), "False")


class GenerationTests(unittest.TestCase):
    """The generate task: --generate-prompts FILE / --generate-new-tokens N, the prompts file, padding, the JSON line."""

    def write_prompts(self, folder: str, data: object) -> str:
        path = os.path.join(folder, "prompts.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        return path

    def test_generation_is_off_without_a_prompts_file(self) -> None:
        args = hf_baseline.parse_args([])
        self.assertEqual((args.generate_prompts, args.generate_new_tokens, args.prompts), (None, 128, []))
        self.assertNotIn("generate", {case.task for case in hf_baseline.plan(args)})

    def test_prompts_file_adds_one_bf16_generate_case_per_model_last(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = self.write_prompts(folder, {"seed": 1, "new_tokens": 16, "prompts": [[5, 6, 7], [8]]})
            args = hf_baseline.parse_args(["--generate-prompts", path, "--generate-new-tokens", "16", "--no-eval"])
        self.assertEqual(args.prompts, [[5, 6, 7], [8]])
        self.assertEqual(args.generate_new_tokens, 16)
        cases = hf_baseline.plan(args)
        generate = [case for case in cases if case.task == "generate"]
        self.assertEqual([(case.model, case.precision, case.attention) for case in generate], [("dense", "bfloat16", "sdpa"), ("moe", "bfloat16", "sdpa")])
        self.assertEqual(cases[3].task, "generate")
        self.assertEqual(cases[-1].task, "generate")

    def test_bad_prompts_files_and_token_counts_are_usage_errors(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            for data in ({"prompts": []}, {"prompts": [[]]}, {"prompts": [[1, -2]]}, {"prompts": [["a"]]}, [[1, 2]]):
                path = self.write_prompts(folder, data)
                with self.subTest(data=data), contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
                    hf_baseline.parse_args(["--generate-prompts", path])
            path = self.write_prompts(folder, {"prompts": [[1]]})
            with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
                hf_baseline.parse_args(["--generate-prompts", path, "--generate-new-tokens", "0"])
            with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
                hf_baseline.parse_args(["--generate-prompts", os.path.join(folder, "missing.json")])

    def test_left_padding_and_mask(self) -> None:
        ids, mask = hf_generate.left_pad([[5, 6, 7], [8]])
        self.assertEqual(ids, [[5, 6, 7], [0, 0, 8]])
        self.assertEqual(mask, [[1, 1, 1], [0, 0, 1]])

    def test_dry_run_lists_the_generate_cases(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = self.write_prompts(folder, {"prompts": [[3, 4]]})
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(hf_baseline.main(["--dry-run", "--shape", "small", "--generate-prompts", path]), 0)
        tasks = [json.loads(line)["task"] for line in out.getvalue().splitlines()]
        self.assertEqual(tasks.count("generate"), 2)

    def test_generate_json_line_has_the_fields_the_dotnet_side_reads(self) -> None:
        result = hf_baseline.Result("hf-transformers", "dense", "bfloat16", "generate", 51200.0, 2.5, "sdpa", "-", 1, 1, 64, 128)
        parsed = json.loads(hf_baseline.to_json_line(result))
        self.assertTrue(REQUIRED_KEYS <= parsed.keys())
        self.assertEqual((parsed["task"], parsed["batch"], parsed["seq"]), ("generate", 64, 128))


@unittest.skipUnless(HAS_TORCH, "torch and transformers are not installed")
class RealRunTests(unittest.TestCase):
    def test_small_run_on_cpu(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "out.jsonl")
            prompts = os.path.join(folder, "prompts.json")
            with open(prompts, "w", encoding="utf-8") as handle:
                json.dump({"prompts": [[3, 4, 5], [6]]}, handle)
            args = ["--shape", "small", "--device", "cpu", "--steps", "1", "--warmup", "1", "--precisions", "float32", "--json", path,
                    "--generate-prompts", prompts, "--generate-new-tokens", "4"]
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(hf_baseline.main(args), 0)
            with open(path, encoding="utf-8") as handle:
                results = [json.loads(line) for line in handle]
        self.assertEqual(len(results), 6)
        self.assertEqual([r["task"] for r in results].count("generate"), 2)
        for result in results:
            self.assertIsNone(result["error"], result)
            self.assertGreater(result["tokens_per_second"], 0)


if __name__ == "__main__":
    unittest.main()
