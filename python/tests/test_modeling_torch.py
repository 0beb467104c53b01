"""The `llamamoe` model against stock Llama where they must agree exactly in value (runs only where torch and
transformers are installed, e.g. by scripts/gpu-scaleout.sh; skipped on CI):

- one expert, top-1, scale 1: the MoE layer is the dense MLP (experts.0.w1/w3/w2 = gate/up/down_proj);
- attention-MoE with one expert per GQA group, all experts selected with unit weights and scale 1: the sum over
  experts is the dense attention (the exactness property of the C# conversion);
- packed rows (position ids restarting at 0) equal each document run alone.
"""

import importlib.util
import unittest

HAVE_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("transformers") is not None


@unittest.skipUnless(HAVE_TORCH, "needs torch and transformers")
class LlamaMoeModelTests(unittest.TestCase):
    def setUp(self) -> None:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        from llamamoe_hf.modeling import register
        register()
        torch.manual_seed(0)
        self.torch = torch
        self.dense_keys = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                               num_key_value_heads=2, vocab_size=61, max_position_embeddings=64, rms_norm_eps=1e-5,
                               tie_word_embeddings=False, attn_implementation="sdpa")
        self.dense = LlamaForCausalLM(LlamaConfig(**self.dense_keys)).eval()
        self.ids = torch.randint(0, 61, (2, 12))

    def moe_model(self, **moe_keys):
        from llamamoe_hf.modeling.configuration import LlamaMoeConfig
        from llamamoe_hf.modeling.model import LlamaMoeForCausalLM
        return LlamaMoeForCausalLM(LlamaMoeConfig(**self.dense_keys, **moe_keys)).eval()

    def copy_common(self, state: dict) -> dict:
        return {k: v for k, v in self.dense.state_dict().items() if ".mlp." not in k and ".self_attn." not in k} | state

    def test_one_expert_top1_equals_the_dense_mlp(self) -> None:
        model = self.moe_model(num_local_experts=1, num_experts_per_tok=1, moe_layers=[0, 1],
                               expert_sizes=[[48], [48]], scale_factor=1.0)
        dense = self.dense.state_dict()
        state = {}
        for i in range(2):
            p, q = f"model.layers.{i}.mlp.", f"model.layers.{i}.block_sparse_moe."
            state[q + "experts.0.w1.weight"] = dense[p + "gate_proj.weight"]
            state[q + "experts.0.w3.weight"] = dense[p + "up_proj.weight"]
            state[q + "experts.0.w2.weight"] = dense[p + "down_proj.weight"]
            state[q + "gate.weight"] = self.torch.randn(1, 32)
            for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
                state[f"model.layers.{i}.self_attn.{name}.weight"] = dense[f"model.layers.{i}.self_attn.{name}.weight"]
        missing, unexpected = model.load_state_dict(self.copy_common(state), strict=False)
        self.assertEqual((list(missing), list(unexpected)), ([], []))
        with self.torch.no_grad():
            self.torch.testing.assert_close(model(self.ids).logits, self.dense(self.ids).logits, rtol=1e-5, atol=1e-5)

    def test_attention_moe_with_all_experts_and_unit_weights_equals_dense_attention(self) -> None:
        model = self.moe_model(num_local_experts=1, num_experts_per_tok=1, moe_layers=[],
                               expert_sizes=[], attention_moe={"num_experts": 2, "top_k": 2, "scale_factor": 1.0,
                                                               "split": 1, "layers": [0, 1], "weights": "unit"})
        dense = self.dense.state_dict()
        hd, group = 8, 2  # head_dim, query heads per KV group
        state = {}
        for i in range(2):
            a = f"model.layers.{i}.self_attn."
            state[a + "gate.weight"] = self.torch.randn(2, 32)
            for e in range(2):
                state[a + f"q_proj.{e}.weight"] = dense[a + "q_proj.weight"][e * group * hd:(e + 1) * group * hd]
                state[a + f"k_proj.{e}.weight"] = dense[a + "k_proj.weight"][e * hd:(e + 1) * hd]
                state[a + f"v_proj.{e}.weight"] = dense[a + "v_proj.weight"][e * hd:(e + 1) * hd]
                state[a + f"o_proj.{e}.weight"] = dense[a + "o_proj.weight"][:, e * group * hd:(e + 1) * group * hd]
            for name in ("gate_proj", "up_proj", "down_proj"):
                state[f"model.layers.{i}.mlp.{name}.weight"] = dense[f"model.layers.{i}.mlp.{name}.weight"]
        missing, unexpected = model.load_state_dict(self.copy_common(state), strict=False)
        self.assertEqual((list(missing), list(unexpected)), ([], []))
        with self.torch.no_grad():
            self.torch.testing.assert_close(model(self.ids).logits, self.dense(self.ids).logits, rtol=1e-5, atol=1e-5)
            # packed: two documents in one row equal each document alone
            first, second = self.ids[0, :5], self.ids[1, :7]
            packed = self.torch.cat([first, second]).unsqueeze(0)
            positions = self.torch.cat([self.torch.arange(5), self.torch.arange(7)]).unsqueeze(0)
            logits = model(packed, position_ids=positions).logits[0]
            self.torch.testing.assert_close(logits[:5], model(first.unsqueeze(0)).logits[0], rtol=1e-5, atol=1e-5)
            self.torch.testing.assert_close(logits[5:], model(second.unsqueeze(0)).logits[0], rtol=1e-5, atol=1e-5)

    def test_registered_with_the_auto_classes(self) -> None:
        from transformers import AutoConfig
        self.assertEqual(type(AutoConfig.for_model("llamamoe")).__name__, "LlamaMoeConfig")


if __name__ == "__main__":
    unittest.main()
