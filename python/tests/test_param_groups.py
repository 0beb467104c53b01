"""Freezes and AdamW param groups (hf_trainer) on stand-in parameters, no torch needed."""

import tempfile
import unittest

from llamamoe_hf.errors import LlamaMoeError
from typing import List

from llamamoe_hf.folds import Fold, ModelFacts
from llamamoe_hf.hf_trainer import apply_freezes, clean_name, is_trainable, param_groups
from llamamoe_hf.job import load_job
from tests.bundle_fixture import make_bundle


class FakeParameter:
    def __init__(self, dims: int, size: int = 4) -> None:
        self.dims, self.size, self.requires_grad = dims, size, True

    def dim(self) -> int:
        return self.dims

    def numel(self) -> int:
        return self.size

    def requires_grad_(self, flag: bool) -> None:
        self.requires_grad = flag


class FakeModel:
    def __init__(self, names: List[str]) -> None:
        self.parameters = {n: FakeParameter(1 if "norm" in n else 2) for n in names}

    def named_parameters(self):
        return list(self.parameters.items())


NAMES = ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
         "model.layers.0.block_sparse_moe.gate.weight", "model.layers.0.block_sparse_moe.experts.1.w2.weight",
         "model.layers.0.block_sparse_moe.experts.1.w1.weight", "model.layers.0.self_attn.q_proj.weight",
         "model.layers.0.mlp.shared_expert_gate.weight"]


class ParamGroupTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()

    def tearDown(self) -> None:
        self.temp.cleanup()

    def job(self, **training):
        return load_job(make_bundle(self.temp.name, training=training))

    def test_folded_tensors_get_their_own_group_at_lr_times_s(self) -> None:
        job = self.job(learning_rate=1e-4, weight_decay=0.1, adam_epsilon=1e-8)
        model = FakeModel(NAMES)
        groups = param_groups(model.named_parameters(), job, [Fold(r"\.w2\.weight$", 4.0)])
        folded = [g for g in groups if "model.layers.0.block_sparse_moe.experts.1.w2.weight" in g["names"]]
        self.assertEqual(len(folded), 1)
        self.assertEqual(folded[0]["names"], ["model.layers.0.block_sparse_moe.experts.1.w2.weight"])
        self.assertAlmostEqual(folded[0]["lr"], 4e-4)
        self.assertAlmostEqual(folded[0]["eps"], 2.5e-9)
        self.assertAlmostEqual(folded[0]["weight_decay"], 0.025)
        norms = [g for g in groups if "model.layers.0.input_layernorm.weight" in g["names"]][0]
        self.assertEqual((norms["lr"], norms["weight_decay"]), (1e-4, 0.0))
        self.assertEqual(sum(len(g["names"]) for g in groups), len(NAMES))

    def test_lr_groups_scale_matching_tensors(self) -> None:
        job = self.job(learning_rate=1e-4, lr_groups=[{"pattern": r"\.gate\.weight$", "scale": 10.0}])
        groups = param_groups(FakeModel(NAMES).named_parameters(), job, [])
        router = [g for g in groups if "model.layers.0.block_sparse_moe.gate.weight" in g["names"]][0]
        self.assertAlmostEqual(router["lr"], 1e-3)

    def test_frozen_parameters_are_left_out_of_every_group(self) -> None:
        job = self.job(freeze=[r"embed_tokens"])
        model = FakeModel(NAMES)
        facts = ModelFacts("qwen2-moe", (), "zeroed-frozen", None)
        counts = apply_freezes(model, job, facts)
        self.assertFalse(model.parameters["model.embed_tokens.weight"].requires_grad)
        self.assertFalse(model.parameters["model.layers.0.mlp.shared_expert_gate.weight"].requires_grad)
        self.assertEqual(counts["frozen"], 8)
        names = [n for g in param_groups(model.named_parameters(), job, []) for n in g["names"]]
        self.assertNotIn("model.embed_tokens.weight", names)

    def test_trainable_router_only_trains_routers(self) -> None:
        job = self.job(trainable="router")
        facts = ModelFacts("mixtral", (), None, None)
        trainable = [n for n in NAMES if is_trainable(n, job, facts)]
        self.assertEqual(trainable, ["model.layers.0.block_sparse_moe.gate.weight"])

    def test_a_list_of_trainable_groups_as_llama_moe_writes_it_trains_their_union(self) -> None:
        job = self.job(trainable=["router", "norms", "embeddings"])
        facts = ModelFacts("mixtral", (), None, None)
        trainable = [n for n in NAMES if is_trainable(n, job, facts)]
        self.assertEqual(trainable, ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                                     "model.layers.0.block_sparse_moe.gate.weight"])

    def test_trainable_other_is_what_no_named_group_covers(self) -> None:
        job = self.job(trainable=["other"])
        facts = ModelFacts("qwen2-moe", (), None, None)
        self.assertEqual([n for n in NAMES if is_trainable(n, job, facts)], ["model.layers.0.mlp.shared_expert_gate.weight"])

    def test_an_unknown_trainable_group_in_a_list_is_refused(self) -> None:
        with self.assertRaises(LlamaMoeError) as caught:
            self.job(trainable=["router", "everything"])
        self.assertEqual(caught.exception.key, "training.trainable")

    def test_wrapper_prefixes_are_stripped_before_matching(self) -> None:
        self.assertEqual(clean_name("_fsdp_wrapped_module.model.layers.0._checkpoint_wrapped_module.mlp.w"),
                         "model.layers.0.mlp.w")


if __name__ == "__main__":
    unittest.main()
