"""The package imports and compiles with the standard library only; the torch entry point fails cleanly without it."""

import compileall
import importlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

from llamamoe_hf.callbacks import read_jsonl
from tests.bundle_fixture import make_bundle

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STDLIB_MODULES = ("job", "data", "safetensors_io", "callbacks", "checkpoints", "preflight", "folds", "trainer_args",
                  "finish", "fake_train", "train", "hf_trainer", "flops", "modeling")


class PackageTests(unittest.TestCase):
    def test_every_file_compiles(self) -> None:
        self.assertTrue(compileall.compile_dir(os.path.join(PACKAGE_ROOT, "llamamoe_hf"), quiet=1, force=False,
                                               legacy=False, workers=1))

    def test_modules_import_without_torch_or_transformers(self) -> None:
        for name in STDLIB_MODULES:
            importlib.import_module(f"llamamoe_hf.{name}")
        self.assertNotIn("torch", sys.modules.get("llamamoe_hf.train").__dict__)

    def test_package_is_typed(self) -> None:
        self.assertTrue(os.path.exists(os.path.join(PACKAGE_ROOT, "llamamoe_hf", "py.typed")))

    @unittest.skipIf(importlib.util.find_spec("torch") is not None, "torch is installed here")
    def test_train_without_torch_reports_a_preflight_error_and_exits_3(self) -> None:
        with tempfile.TemporaryDirectory() as temp:
            job = make_bundle(os.path.join(temp, "b"))
            out = os.path.join(temp, "out")
            result = subprocess.run([sys.executable, "-m", "llamamoe_hf.train", "--job", job, "--out", out],
                                    env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT), capture_output=True, text=True,
                                    timeout=60)
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("LMOE3410", result.stderr)
            events = read_jsonl(os.path.join(out, "run-0123456789ab", "events.jsonl"))
            self.assertEqual((events[-1]["event"], events[-1]["code"]), ("error", "LMOE3410"))


if __name__ == "__main__":
    unittest.main()
