import json
import os
import tempfile
import unittest

from llamamoe_hf.errors import BAD_MODEL, GRADIENT_ACCUMULATION, PREFLIGHT, LlamaMoeError
from llamamoe_hf.folds import Fold, apply_folds, group_settings, load_facts, parse_facts, scale_of, undo_folds
from llamamoe_hf.job import load_job
from llamamoe_hf.preflight import Report, check_bundle, check_versions, parse_constraints, version_key
from llamamoe_hf.trainer_args import model_config_overrides, training_arguments
from tests.bundle_fixture import make_bundle


class FoldTests(unittest.TestCase):
    folds = (Fold(r"\.experts\.\d+\.w2\.weight$", 4.0), Fold(r"shared_expert\.down_proj", 2.0))

    def test_apply_then_undo_is_the_identity_for_powers_of_two(self) -> None:
        state = {"model.layers.0.block_sparse_moe.experts.3.w2.weight": [[0.1, -0.3], [1e-7, 5.5]],
                 "model.layers.0.mlp.shared_expert.down_proj.weight": [0.7],
                 "model.embed_tokens.weight": [1.0, 2.0]}
        folded = apply_folds(state, self.folds)
        self.assertEqual(folded["model.layers.0.block_sparse_moe.experts.3.w2.weight"], [[0.4, -1.2], [4e-7, 22.0]])
        self.assertEqual(folded["model.layers.0.mlp.shared_expert.down_proj.weight"], [1.4])
        self.assertIs(folded["model.embed_tokens.weight"], state["model.embed_tokens.weight"])
        self.assertEqual(undo_folds(folded, self.folds), state)

    def test_unmatched_names_have_scale_one(self) -> None:
        self.assertEqual(scale_of("model.layers.0.block_sparse_moe.experts.3.w1.weight", self.folds), 1.0)

    def test_folded_tensors_train_at_lr_times_s_with_eps_and_decay_over_s(self) -> None:
        settings = group_settings(4.0, lr=1e-4, eps=1e-8, weight_decay=0.1)
        self.assertAlmostEqual(settings.lr, 4e-4)
        self.assertAlmostEqual(settings.eps, 2.5e-9)
        self.assertAlmostEqual(settings.weight_decay, 0.025)

    def test_facts_are_read_from_llamamoe_json(self) -> None:
        with tempfile.TemporaryDirectory() as temp:
            job = load_job(make_bundle(temp))
            facts = load_facts(job.model_dir)
            self.assertEqual(facts.profile, "mixtral")
            self.assertEqual(facts.folds[0].scale, 4.0)

    def test_zero_scale_and_unknown_profile_are_refused(self) -> None:
        for obj, key in (({"profile": "mixtral", "folds": [{"pattern": "x", "scale": 0}]}, "folds[0].scale"),
                         ({"profile": "gpt2"}, "profile"),
                         ({"profile": "qwen2-moe", "residual_gate": "open"}, "residual_gate")):
            with self.assertRaises(LlamaMoeError) as caught:
                parse_facts(obj, "llamamoe.json")
            self.assertEqual(caught.exception.code, BAD_MODEL)
            self.assertEqual(caught.exception.key, key)


class TrainerArgsTests(unittest.TestCase):
    def setUp(self) -> None:
        self.temp = tempfile.TemporaryDirectory()

    def tearDown(self) -> None:
        self.temp.cleanup()

    def test_job_maps_to_transformers_5_argument_names(self) -> None:
        job = load_job(make_bundle(self.temp.name))
        args = training_arguments(job, "/out/run-x", world_size=2)
        self.assertEqual(args["gradient_accumulation_steps"], 2)
        self.assertEqual(args["per_device_train_batch_size"], 1)
        self.assertEqual(args["warmup_steps"], 0.03)
        self.assertNotIn("warmup_ratio", args)
        self.assertNotIn("evaluation_strategy", args)
        self.assertEqual(args["eval_strategy"], "no")
        self.assertTrue(args["bf16"])
        self.assertFalse(args["tf32"])
        self.assertEqual(args["gradient_checkpointing_kwargs"], {"use_reentrant": False})
        self.assertFalse(args["save_only_model"])
        self.assertFalse(args["ignore_data_skip"])
        self.assertTrue(args["average_tokens_across_devices"])
        self.assertEqual(args["report_to"], "none")
        self.assertEqual(args["output_dir"], os.path.join("/out/run-x", "checkpoints"))
        self.assertEqual(args["fsdp_config"]["transformer_layer_cls_to_wrap"], ["MixtralDecoderLayer"])
        self.assertEqual(args["fsdp_config"]["version"], 2)
        self.assertNotIn("deepspeed", args)

    def test_zero_sharding_points_at_the_bundles_deepspeed_config(self) -> None:
        job = load_job(make_bundle(self.temp.name, executor={"sharding": "zero1"}))
        args = training_arguments(job, "/out/run-x", world_size=4)
        self.assertTrue(args["deepspeed"].endswith(os.path.join("config", "ds_zero1.json")))
        self.assertNotIn("fsdp", args)

    def test_the_bundles_fsdp2_json_wins_over_the_defaults(self) -> None:
        job = load_job(make_bundle(self.temp.name))
        with open(job.resolve("config/fsdp2.json"), "w") as handle:
            json.dump({"version": 2, "reshard_after_forward": False}, handle)
        self.assertEqual(training_arguments(job, "/o", 1)["fsdp_config"], {"version": 2, "reshard_after_forward": False})

    def test_actual_world_size_that_does_not_divide_is_refused(self) -> None:
        job = load_job(make_bundle(self.temp.name))
        with self.assertRaises(LlamaMoeError) as caught:
            training_arguments(job, "/o", world_size=3)
        self.assertEqual(caught.exception.code, GRADIENT_ACCUMULATION)

    def test_eval_steps_and_aux_loss_switch_on_when_asked(self) -> None:
        job = load_job(make_bundle(self.temp.name, training={"eval_steps": 5, "output_router_logits": True,
                                                             "router_aux_loss_coef": 0.01, "precision": "tf32"}))
        args = training_arguments(job, "/o", 1)
        self.assertEqual((args["eval_strategy"], args["eval_steps"], args["tf32"], args["bf16"]), ("steps", 5, True, False))
        self.assertEqual(model_config_overrides(job), {"output_router_logits": True, "router_aux_loss_coef": 0.01})


class PreflightTests(unittest.TestCase):
    def test_constraints_lines_parse_with_comments_extras_and_markers(self) -> None:
        constraints = parse_constraints("# pins\ntorch==2.11.0\n\ntransformers>=5.2,<6  # v5\n"
                                        "accelerate[torch]>=1.0 ; python_version>'3.9'\nDeep_Speed~=0.16.2\n")
        self.assertEqual([c.package for c in constraints], ["torch", "transformers", "accelerate", "deep-speed"])
        self.assertEqual(constraints[1].specifiers, ((">=", "5.2"), ("<", "6")))
        self.assertTrue(constraints[0].allows("2.11.0+cu128"))
        self.assertFalse(constraints[0].allows("2.10.1"))
        self.assertTrue(constraints[1].allows("5.17.0"))
        self.assertFalse(constraints[1].allows("6.0.0"))
        self.assertFalse(constraints[1].allows("4.57.1"))
        self.assertTrue(constraints[3].allows("0.16.9"))
        self.assertFalse(constraints[3].allows("0.17.0"))

    def test_pre_releases_sort_before_the_release(self) -> None:
        self.assertLess(version_key("5.2.0rc1"), version_key("5.2.0"))
        self.assertEqual(version_key("5.2"), version_key("5.2.0"))
        self.assertLess(version_key("5.10"), version_key("5.17"))

    def test_malformed_constraint_is_a_preflight_error_with_its_line(self) -> None:
        with self.assertRaises(LlamaMoeError) as caught:
            parse_constraints("torch==2.11\ntransformers=>5\n")
        self.assertEqual((caught.exception.code, caught.exception.key), (PREFLIGHT, "line 2"))

    def test_missing_and_wrong_versions_fail_the_report(self) -> None:
        report = Report()
        installed = {"torch": "2.11.0", "transformers": "4.46.0"}
        check_versions(parse_constraints("torch==2.11.0\ntransformers>=5.2,<6\naccelerate>=1.0\n"), report,
                       installed.get)
        self.assertEqual([c["check"] for c in report.failures], ["version:transformers", "version:accelerate"])
        with self.assertRaises(LlamaMoeError) as caught:
            report.raise_if_failed()
        self.assertEqual(caught.exception.exit_code, 3)

    def test_bundle_digests_pass_then_fail_after_a_file_changes(self) -> None:
        with tempfile.TemporaryDirectory() as temp:
            job = load_job(make_bundle(temp))
            report = Report()
            check_bundle(job.bundle_root, report)
            self.assertEqual(report.failures, [])
            with open(job.resolve("model/config.json"), "a") as handle:
                handle.write(" ")
            report = Report()
            check_bundle(job.bundle_root, report)
            self.assertIn("model/config.json digest mismatch", str(report.failures))

    def test_large_files_are_only_sampled(self) -> None:
        with tempfile.TemporaryDirectory() as temp:
            job = load_job(make_bundle(temp))
            report = Report()
            check_bundle(job.bundle_root, report, large_sample=1, large_file=200)
            self.assertEqual(report.failures, [])
            self.assertRegex(str(report.checks[0]["detail"]), r"1 of \d+ large files hashed")


if __name__ == "__main__":
    unittest.main()
