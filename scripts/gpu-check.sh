#!/usr/bin/env bash
# GPU check for issue 11, one command on a machine with an NVIDIA GPU and PyTorch (no .NET needed):
#   scripts/gpu-check.sh [PUB] [DATA] [OUT]
#     PUB   self-contained publish of the CLI and the benchmarks (scripts/publish-gpu.sh), default pub
#     DATA  a folder with stories260K/, tinystories/ and gsm8k/ from the shared data, default gpu-data
#     OUT   where every result goes, default $OUT or gpu-check-out
# libtorch comes from the PyTorch installation (LLAMAMOE_LIBTORCH=python unless already set).
# Steps: doctor; the quickstart and stories260k pipelines on the CPU, on CUDA in float32 and in bfloat16, all at once;
# the CPU run's models evaluated on both devices; a comparison (scripts/gpu_check.py) ending in "RESULT: PASS" or
# "RESULT: FAIL"; then, on a quiet GPU, the side-by-side training benchmark against stock transformers.
set -uo pipefail
cd "$(dirname "$0")/.."
pub=$(realpath "${1:-pub}"); data=$(realpath "${2:-gpu-data}"); out="${3:-${OUT:-gpu-check-out}}"
mkdir -p "$out"; out=$(realpath "$out"); runs="$out/runs"
export LLAMAMOE_LIBTORCH="${LLAMAMOE_LIBTORCH:-python}" LLAMAMOE_DATA="$data" DOTNET_CLI_TELEMETRY_OPTOUT=1
cli="$pub/llama-moe"
say() { echo "[gpu-check $(date +%T)] $*" | tee -a "$out/summary.txt"; }

say "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
"$cli" doctor > "$out/doctor.txt" 2>&1; say "doctor exit $?"; cat "$out/doctor.txt"
"$cli" doctor --json > "$out/doctor.json" 2>&1
if ! grep -q "cuda:0" "$out/doctor.txt"; then
  # Fall back to the loader's search path, the way gpu-notes.md first ran TorchSharp on PyTorch's libraries.
  say "LLAMAMOE_LIBTORCH=$LLAMAMOE_LIBTORCH gave no CUDA device; falling back to LD_LIBRARY_PATH"
  unset LLAMAMOE_LIBTORCH
  export LD_LIBRARY_PATH="$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__)+"/lib")'):${LD_LIBRARY_PATH:-}"
  "$cli" doctor > "$out/doctor-fallback.txt" 2>&1; cat "$out/doctor-fallback.txt"
fi


python3 scripts/gpu_check.py variants --runs "$runs"
start=$SECONDS
for variant in "$runs"/*/; do
  name=$(basename "$variant"); device=cpu; [[ $name == *cuda* ]] && device=cuda
  ( cd "$variant" && began=$SECONDS && timeout "${GPU_CHECK_PIPELINE_TIMEOUT:-200}" "$cli" run pipeline.yaml --store store --plain --device "$device" > run.log 2>&1
    echo "exit $? after $((SECONDS - began)) s" >> run.log ) &
done
wait
for variant in "$runs"/*/; do say "$(basename "$variant"): $(tail -2 "$variant/run.log" | tr '\n' ' ')"; done
say "pipelines done in $((SECONDS - start)) s"
grep -h "device:" "$runs"/*/run.log | sort | uniq -c | head -20 | tee -a "$out/summary.txt"

python3 scripts/gpu_check.py fixed --runs "$runs" --cli "$cli" --data "$data"
python3 scripts/gpu_check.py compare --runs "$runs" | tee "$out/gpu-check.md"
status=${PIPESTATUS[0]}
# Keep the reports, drop the bulky stores (artifacts are links into them).
for variant in "$runs"/*/; do cp -L "$variant"artifacts/*/eval/report.md "$variant"eval-report.md 2>/dev/null
  cp -L "$variant"artifacts/*/eval/metrics.json "$variant"eval-metrics.json 2>/dev/null; done
rm -rf "$runs"/*/store "$runs"/*/artifacts/*/*/model.safetensors "$runs"/*/artifacts/*/export "$runs"/*/artifacts/*/*/checkpoints
if [ "${GPU_CHECK_SKIP_BENCH:-0}" != 1 ]; then
  say "benchmark: CUDA training, ours vs transformers"
  start=$SECONDS
  timeout "${GPU_CHECK_BENCH_TIMEOUT:-280}" "$pub/LlamaMoe.Benchmarks" ${GPU_CHECK_BENCH_ARGS:---only side-by-side --device cuda --steps 15 --warmup 3 --hf-attn sdpa --python python3} \
    --out "$out/benchmark.md" --json "$out/benchmark.jsonl" > "$out/benchmark.log" 2>&1
  say "benchmark exit $? in $((SECONDS - start)) s"; cat "$out/benchmark.md" 2>/dev/null || tail -40 "$out/benchmark.log"
fi
say "done: exit $status"
exit "$status"
