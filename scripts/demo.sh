#!/usr/bin/env bash
# The main job on a bundled model: inspect, compile (calibrate + quantise + commit), quantised inference
# compared against the float model, then a development SRS, key generation, a real KZG proof of that
# inference, its verification, and an audit of the proof against the ONNX file.
# BACKEND=sumcheck runs it on the sumcheck backend (public input and output, weights fixed in the key).
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-lenet}"
dir="models/$model"
out="${OUT_DIR:-out}"
backend="${BACKEND:-halo2}"
mkdir -p "$out"
poai() { cargo run -q -p poai-cli -- "$@"; }
echo "== poai inspect $dir/model.onnx"
poai inspect "$dir/model.onnx"
echo "== poai compile"
poai compile "$dir/model.onnx" --calibration "$dir/calibration.json" -o "$out/$model.poai"
echo "== poai run"
poai run "$out/$model.poai" --input "$dir/input.json" --reference "$dir/model.onnx"
echo "== poai srs (INSECURE local development setup, sized for the model)"
poai srs --model "$out/$model.poai" --backend "$backend" -o "$out/dev.srs"
echo "== poai setup --backend $backend"
poai setup "$out/$model.poai" --srs "$out/dev.srs" --pk "$out/$model.pk" --vk "$out/$model.vk" --backend "$backend"
echo "== poai prove"
poai prove "$out/$model.poai" --input "$dir/input.json" --pk "$out/$model.pk" --srs "$out/dev.srs" -o "$out/$model.proof.json"
echo "== poai verify"
poai verify "$out/$model.proof.json" --vk "$out/$model.vk" --srs "$out/dev.srs"
echo "== poai audit (rebuild the model from the ONNX file, recompute the key, verify)"
poai audit "$dir/model.onnx" --compiled "$out/$model.poai" --proof "$out/$model.proof.json" --vk "$out/$model.vk" --srs "$out/dev.srs"
