#!/usr/bin/env bash
# GPU check for issue 12 (scale-out through torchrun + the Hugging Face Trainer), on a machine with PyTorch 2.11,
# transformers 5.17 and accelerate (no DeepSpeed, no .NET SDK, no network), in under ~9 minutes:
#   scripts/gpu-scaleout.sh [PUB] [DATA] [OUT]
#     PUB   self-contained publish of the CLI (scripts/publish-gpu.sh), default pub
#     DATA  the shared-data subset (stories260K/, tinystories/ ...), default gpu-data
#     OUT   where every result goes, default $OUT or gpu-scaleout-out
# Steps, each writing OUT/results/<n>-<name>.json, then OUT/results/summary.md ending in "RESULT: PASS|FAIL":
#   1 environment   versions, deepspeed absent, grouped_mm present, measured bf16 matmul TFLOP/s
#   2a modeling     python/tests/test_modeling_torch.py: the llamamoe model equals stock Llama where it must
#   2 bundles       `llama-moe run pipelines/{stories260k,quickstart}.yaml --var executor=bundle-only` (or the folders
#                   in GPU_SCALEOUT_BUNDLES); parity: model/ in its stock class vs golden logits (fp32 1e-5, bf16 probe)
#   3 preemption    torchrun --standalone --nproc-per-node=1 behind python -m llamamoe_hf.launch (the signal relay),
#                   FSDP2, deterministic, 200 steps; SIGUSR1 to the relay at
#                   step ~120 -> preempted + COMPLETE -> relaunch -> resume; losses after the resume equal a run
#                   without interruption (<= 1e-6)
#   4 multi-rank    CPU gloo DDP, 2 ranks, 50 steps, SIGUSR1 at ~25, resumed at world size 1: rows per step identical
#   5 performance   4-layer Llama-3-8B-width MoE (8 experts top-2) vs dense, seq 4096, micro-batch 2, grad ckpt, SDPA,
#                   eager vs grouped_mm: tokens/s/GPU, MFU (spec and measured peak)
#   6 end to end    (GPU_SCALEOUT_E2E=1) `llama-moe run pipelines/quickstart.yaml --var executor=torchrun`
# GPU_SCALEOUT_DRY_RUN=1 exercises the plumbing anywhere: a stdlib bundle, the fake trainer (python -m
# llamamoe_hf.fake_train) instead of torchrun + train, separate processes as ranks, no performance probe.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
pub=$(realpath -m "${1:-pub}"); data=$(realpath -m "${2:-gpu-data}"); out="${3:-${OUT:-gpu-scaleout-out}}"
mkdir -p "$out"; out=$(realpath "$out"); results="$out/results"; work="$out/work"
rm -rf "$results" "$work"; mkdir -p "$results" "$work"
dry="${GPU_SCALEOUT_DRY_RUN:-0}"; export GPU_SCALEOUT_DRY_RUN="$dry"
export LLAMAMOE_LIBTORCH="${LLAMAMOE_LIBTORCH:-python}" LLAMAMOE_DATA="$data" DOTNET_CLI_TELEMETRY_OPTOUT=1
cli="$pub/llama-moe"
helper=(python3 "$repo/scripts/gpu_scaleout.py")
say() { echo "[gpu-scaleout $(date +%T)] $*" | tee -a "$out/log.txt"; }
began_all=$SECONDS

# Starts the trainer for a bundle in the background: launch <bundle> <out> <nproc> [extra env...]; the launcher's pid(s)
# go to the global array `pids` (not a subshell, so that `wait` can reap them and report their exit status).
launch() {
  pids=()
  local bundle=$1 dest=$2 nproc=$3; shift 3
  local py="$bundle/py"; [ -d "$py/llamamoe_hf" ] || py="$repo/python"
  if [ "$dry" = 1 ]; then
    for ((rank = 0; rank < nproc; rank++)); do
      env "$@" PYTHONPATH="$py" WORLD_SIZE="$nproc" RANK="$rank" LLAMAMOE_FAKE_STEP_SECONDS="${LLAMAMOE_FAKE_STEP_SECONDS:-0.15}" \
        python3 -m llamamoe_hf.fake_train --job "$bundle/config/job.json" --out "$dest" >> "$dest.log" 2>&1 &
      pids+=($!)
    done
  else
    env "$@" PYTHONPATH="$py" TORCH_NCCL_ASYNC_ERROR_HANDLING=1 python3 -m llamamoe_hf.launch -- \
      torchrun --standalone --nproc-per-node="$nproc" -m llamamoe_hf.train --job "$bundle/config/job.json" --out "$dest" \
      >> "$dest.log" 2>&1 &
    pids+=($!)
  fi
}

# Waits for every pid in `pids`; returns the last non-zero exit status (0 when all succeeded).
wait_all() { local status=0 p; for p in "${pids[@]}"; do wait "$p" || status=$?; done; return "$status"; }

# SIGUSR1 as a scheduler sends it: to the llamamoe_hf.launch relay in front of torchrun (which passes it on to the
# workers; torchrun itself would die of it) or, in a dry run, to the fake ranks themselves.
preempt() {
  local pid
  for pid in "$@"; do kill -USR1 "$pid" 2>/dev/null; done
}

run_dir() { echo "$1/$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["out_subdir"])' "$2/config/job.json")"; }

say "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1) dry-run=$dry"

# 1. environment
"${helper[@]}" env --out "$results/1-environment.json" > "$work/env.log" 2>&1; say "environment: $(tail -1 "$work/env.log" | cut -c1-300)"
measured=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1])).get("bf16_matmul_tflops") or 0)' "$results/1-environment.json" 2>/dev/null || echo 0)

# 2a. the llamamoe model against stock Llama (exact-in-value cases; skipped where torch is absent)
( cd "$repo/python" && timeout 120 python3 -m unittest -v tests.test_modeling_torch ) > "$work/modeling.log" 2>&1; status=$?
python3 -c 'import json,sys;t=open(sys.argv[3]).read();json.dump({"check":"llamamoe model vs stock Llama","exit":int(sys.argv[2]),"skipped":"skipped" in t,"passed":sys.argv[2]=="0" and ("skipped" not in t or sys.argv[4]=="1")},open(sys.argv[1],"w"))' \
  "$results/2a-modeling.json" "$status" "$work/modeling.log" "$dry"
say "modeling: exit $status $(tail -1 "$work/modeling.log")"

# 2. bundles and parity
bundles=()
if [ -n "${GPU_SCALEOUT_BUNDLES:-}" ]; then
  read -r -a bundles <<< "$GPU_SCALEOUT_BUNDLES"
elif [ "$dry" = 1 ]; then
  bundles+=("$("${helper[@]}" dry-bundle --root "$work/gen-dry" --rows 64 --steps 30)")
else
  [ -d "$pub/python/llamamoe_hf" ] || cp -r "$repo/python" "$pub/python"  # where the CLI looks for the package
  for pipeline in stories260k quickstart; do
    mkdir -p "$work/gen-$pipeline"
    ( cd "$work/gen-$pipeline" && timeout "${GPU_SCALEOUT_GEN_TIMEOUT:-150}" "$cli" run "$repo/pipelines/$pipeline.yaml" \
        --store store --plain --var executor=bundle-only > gen.log 2>&1; echo "exit $?" >> gen.log )
    found=$("${helper[@]}" find-bundles --root "$work/gen-$pipeline" | head -1)
    say "bundle for $pipeline: ${found:-none} ($(tail -1 "$work/gen-$pipeline/gen.log"))"
    [ -n "$found" ] && bundles+=("$found")
  done
fi
expect=(1-environment.json 2a-modeling.json)
i=0
for bundle in "${bundles[@]}"; do
  i=$((i + 1)); expect+=("2-parity-$i.json")
  timeout 120 "${helper[@]}" parity --bundle "$bundle" --out "$results/2-parity-$i.json" > "$work/parity-$i.log" 2>&1
  say "parity $(basename "$bundle"): exit $? $(tail -1 "$work/parity-$i.log" | cut -c1-300)"
done
[ ${#bundles[@]} -gt 0 ] || { say "no bundle: steps 2-4 cannot run"; expect+=(2-parity-1.json); }

# 3. preemption and resume on one GPU (the last bundle: quickstart when generated)
if [ ${#bundles[@]} -gt 0 ]; then
  source_bundle="${bundles[-1]}"; expect+=(3-preempt-resume.json)
  if [ "$dry" = 1 ]; then steps=30; at=12; else steps=${GPU_SCALEOUT_STEPS:-200}; at=$((steps * 3 / 5)); fi
  b3="$work/b3"
  "${helper[@]}" derive --bundle "$source_bundle" --out "$b3" --set "training.max_steps=$steps" --set training.logging_steps=1 \
    --set training.save_steps=50 --set training.save_total_limit=3 --set executor.gpus_per_node=1 --set executor.sharding='"fsdp2"' > /dev/null
  det=(LLAMAMOE_DETERMINISTIC=1 CUBLAS_WORKSPACE_CONFIG=:4096:8)
  start=$SECONDS
  launch "$b3" "$work/ref" 1 "${det[@]}"; wait_all; say "reference run: exit $? in $((SECONDS - start)) s"
  start=$SECONDS
  launch "$b3" "$work/pre" 1 "${det[@]}"
  "${helper[@]}" wait-step --run "$(run_dir "$work/pre" "$b3")" --step "$at" --timeout 240 > /dev/null
  preempt "${pids[@]}"; wait_all; say "preempted run: exit $? in $((SECONDS - start)) s"
  launch "$b3" "$work/pre" 1 "${det[@]}"; wait_all; say "resumed run: exit $? in $((SECONDS - start)) s"
  "${helper[@]}" losses --reference "$(run_dir "$work/ref" "$b3")" --resumed "$(run_dir "$work/pre" "$b3")" \
    --out "$results/3-preempt-resume.json" > "$work/losses.log" 2>&1
  say "preempt/resume: $(tail -1 "$work/losses.log" | cut -c1-300)"

  # 4. multi-rank data order (CPU gloo ranks; the first, smallest bundle)
  expect+=(4-multi-rank.json)
  b4="$work/b4"
  "${helper[@]}" derive --bundle "${bundles[0]}" --out "$b4" --set training.max_steps=50 --set training.logging_steps=1 \
    --set training.save_steps=10 --set training.global_batch=8 --set training.micro_batch=2 --set training.precision='"float32"' \
    --set training.gradient_checkpointing=false --set executor.gpus_per_node=2 > /dev/null
  start=$SECONDS
  if [ "$dry" = 1 ]; then
    launch "$b4" "$work/mr" 2 LLAMAMOE_RECORD_ROWS="$work/rows1" LLAMAMOE_FAKE_EXIT_AT_STEP=25
  else
    launch "$b4" "$work/mr" 2 LLAMAMOE_RECORD_ROWS="$work/rows1" LLAMAMOE_USE_CPU=1 LLAMAMOE_FORCE_DDP=1 CUDA_VISIBLE_DEVICES=
    "${helper[@]}" wait-step --run "$(run_dir "$work/mr" "$b4")" --step 25 --timeout 180 > /dev/null
    preempt "${pids[@]}"
  fi
  wait_all; say "2 ranks: stopped (exit $?) in $((SECONDS - start)) s"
  cpu_env=(LLAMAMOE_RECORD_ROWS="$work/rows2"); [ "$dry" = 1 ] || cpu_env+=(LLAMAMOE_USE_CPU=1 LLAMAMOE_FORCE_DDP=1 CUDA_VISIBLE_DEVICES=)
  launch "$b4" "$work/mr" 1 "${cpu_env[@]}"; wait_all; say "1 rank resumed: exit $? in $((SECONDS - start)) s"
  "${helper[@]}" rows --bundle "$b4" --run "$(run_dir "$work/mr" "$b4")" --phase1 "$work/rows1" --phase2 "$work/rows2" \
    --world1 2 --world2 1 --out "$results/4-multi-rank.json" > "$work/rows.log" 2>&1
  say "multi-rank: $(tail -1 "$work/rows.log" | cut -c1-300)"
fi

# 5. performance probe
expect+=(5-performance.json)
start=$SECONDS
GPU_SCALEOUT_MEASURED_TFLOPS="$measured" timeout "${GPU_SCALEOUT_PERF_TIMEOUT:-200}" "${helper[@]}" perf --out "$results/5-performance.json" \
  > "$work/perf.log" 2>&1
say "performance: exit $? in $((SECONDS - start)) s $(tail -1 "$work/perf.log" | cut -c1-400)"

# 6. optional end to end through the CLI
if [ "${GPU_SCALEOUT_E2E:-0}" = 1 ] && [ "$dry" != 1 ]; then
  mkdir -p "$work/e2e"; start=$SECONDS
  ( cd "$work/e2e" && timeout "${GPU_SCALEOUT_E2E_TIMEOUT:-400}" "$cli" run "$repo/pipelines/quickstart.yaml" --store store --plain \
      --var executor=torchrun > run.log 2>&1 ); status=$?
  python3 -c 'import json,sys;json.dump({"check":"end to end (quickstart, executor torchrun)","exit":int(sys.argv[2]),"passed":sys.argv[2]=="0"},open(sys.argv[1],"w"))' \
    "$results/6-end-to-end.json" "$status"
  say "end to end: exit $status in $((SECONDS - start)) s"; tail -20 "$work/e2e/run.log"
fi

# Keep logs and results, drop bulky model copies.
rm -rf "$work"/*/run-*/checkpoints "$work"/gen-*/store 2>/dev/null
"${helper[@]}" report --results "$results" --expect "${expect[@]}"
status=$?
say "done in $((SECONDS - began_all)) s: exit $status"
exit "$status"
