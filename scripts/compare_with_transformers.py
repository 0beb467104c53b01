#!/usr/bin/env python3
"""Cross-check LlamaMoe exports against stock Hugging Face transformers (run where PyTorch + transformers exist).

For each case folder given on the command line, the folder holds:
  model/            a Hugging Face model directory written by LlamaMoe (dense Llama or Mixtral-compatible MoE)
  input_ids.json    a list of token ids
  logits.f32        our logits for those ids, float32 little-endian, shape (T, V)
It loads the model with AutoModelForCausalLM in float32 on the available device, computes logits for the same ids
and prints one JSON line per case with the max absolute difference. Exit code 1 if any case exceeds --tol.
"""
import argparse, json, os, sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--tol", type=float, default=1e-4)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    worst = 0.0
    for case in args.cases:
        path = os.path.join(case, "model")
        try:
            # transformers 5's grouped-matmul expert kernel needs 16-byte-aligned strides; the eager path has no such limit.
            model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, experts_implementation="eager")
        except (TypeError, ValueError):
            model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
        model = model.to(device).eval()
        ids = json.load(open(os.path.join(case, "input_ids.json")))
        ours = np.fromfile(os.path.join(case, "logits.f32"), dtype="<f4").reshape(len(ids), -1)
        with torch.no_grad():
            theirs = model(torch.tensor([ids], device=device)).logits[0].float().cpu().numpy()
        diff = float(np.abs(theirs - ours).max())
        argmax_agree = float((theirs.argmax(-1) == ours.argmax(-1)).mean())
        worst = max(worst, diff)
        print(json.dumps({"case": os.path.basename(case.rstrip("/")), "architecture": model.config.architectures,
                          "model_type": model.config.model_type, "tokens": len(ids), "max_abs_diff": diff,
                          "argmax_agreement": argmax_agree, "device": device}))
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
