#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has PyTorch but no .NET:
#   scripts/publish-gpu.sh [OUTDIR]   (default out/)
# writes OUTDIR/gpu.tar.xz (a self-contained linux-x64 publish of the CLI and the benchmarks in one folder, pub/,
# without the CPU libtorch libraries: at run time LLAMAMOE_LIBTORCH=python points LlamaMoe at PyTorch's own CUDA
# libtorch) and OUTDIR/gpu-data/ (the shared-data files the checked pipelines read, from LLAMAMOE_DATA).
# On the GPU machine: tar xJf gpu.tar.xz && scripts/gpu-check.sh pub gpu-data "$OUT".
set -euo pipefail
cd "$(dirname "$0")/.."
dest=$(mkdir -p "${1:-out}" && realpath "${1:-out}")
data="${LLAMAMOE_DATA:-$(cd .. && pwd)/shared/data}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for project in src/Pipeline/LlamaMoe.Cli benchmarks/LlamaMoe.Benchmarks; do
  dotnet publish "$project" -c Release -r linux-x64 --self-contained -o "$stage/pub" -nologo -v quiet
done
# PyTorch brings libtorch, c10, gomp and the backends; keep TorchSharp's own (GLIBCXX-patched) bridge.
find "$stage/pub" -maxdepth 1 \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' -o -name 'libshm*.so*' \
  -o -name '*_test.so' -o -name 'libbackend_with_compiler.so' -o -name 'libnnapi_backend.so' -o -name 'libaoti_custom_ops.so' \) -delete
test -f "$stage/pub/libLibTorchSharp.so"
tar -C "$stage" -cf - pub | xz -6 -T0 > "$dest/gpu.tar.xz"
rm -rf "$dest/gpu-data" && mkdir -p "$dest/gpu-data"
cp -r "$data/stories260K" "$data/tinystories" "$dest/gpu-data/"
mkdir -p "$dest/gpu-data/gsm8k" && cp "$data/gsm8k/train.jsonl" "$dest/gpu-data/gsm8k/"
du -sh "$dest/gpu.tar.xz" "$dest/gpu-data"
