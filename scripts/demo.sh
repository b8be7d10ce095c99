#!/usr/bin/env bash
# The main job on a bundled model: inspect, compile (calibrate + quantise + commit), quantised inference
# compared against the float model, then key generation, a real KZG proof and its verification (through the
# proving benchmark until the CLI's setup/prove/verify commands land).
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-lenet}"
dir="models/$model"
out="${OUT_DIR:-out}"
mkdir -p "$out"
poai() { cargo run -q -p poai-cli -- "$@"; }
echo "== poai inspect $dir/model.onnx"
poai inspect "$dir/model.onnx"
echo "== poai compile"
poai compile "$dir/model.onnx" --calibration "$dir/calibration.json" -o "$out/$model.poai"
echo "== poai run"
poai run "$out/$model.poai" --input "$dir/input.json" --reference "$dir/model.onnx"
echo "== keygen, prove, verify (halo2-KZG over BN254, INSECURE development SRS)"
cargo run -q -p poai-benches --bin prove_table -- "$model"
