#!/usr/bin/env bash
# Proofs on a committed dataset, on the digits_cnn fixture and its 360 real held-out rows: commit the
# rows, prove inference on one row (membership: the row private, the dataset root public), prove the
# model's accuracy on a batch of rows ("model M scores X/N on dataset D"), verify both, and audit the
# accuracy proof against the ONNX file and the raw rows.
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-digits_cnn}"
batch="${BATCH:-2}"
dir="models/$model"
out="${OUT_DIR:-out}"
mkdir -p "$out"
poai() { cargo run -q -p poai-cli -- "$@"; }
echo "== poai compile"
poai compile "$dir/model.onnx" --calibration "$dir/calibration.json" -o "$out/$model.poai"
echo "== poai dataset commit (Poseidon Merkle tree over the quantised rows and labels)"
poai dataset commit "$dir/test.jsonl" --compiled "$out/$model.poai" -o "$out/$model.dataset.json"
# One SRS per circuit size (a larger development SRS also works: it is regenerated at the smaller size).
echo "== poai srs (INSECURE local development setups, sized for membership and for a batch of $batch)"
poai srs --model "$out/$model.poai" --dataset "$out/$model.dataset.json" -o "$out/member.srs"
poai srs --model "$out/$model.poai" --dataset "$out/$model.dataset.json" --batch "$batch" -o "$out/ds.srs"
echo "== membership: setup, prove row 7, verify"
poai setup "$out/$model.poai" --srs "$out/member.srs" --pk "$out/member.pk" --vk "$out/member.vk" --dataset "$out/$model.dataset.json"
poai prove "$out/$model.poai" --dataset "$out/$model.dataset.json" --row 7 --pk "$out/member.pk" --srs "$out/member.srs" -o "$out/member.proof.json"
poai verify "$out/member.proof.json" --vk "$out/member.vk" --srs "$out/member.srs"
echo "== accuracy: setup for batches of $batch, prove rows 0..$batch, verify"
poai setup "$out/$model.poai" --srs "$out/ds.srs" --pk "$out/acc.pk" --vk "$out/acc.vk" --dataset "$out/$model.dataset.json" --batch "$batch"
poai prove-accuracy "$out/$model.poai" --dataset "$out/$model.dataset.json" --rows "0..$batch" --pk "$out/acc.pk" --srs "$out/ds.srs" -o "$out/acc.proof.json"
poai verify "$out/acc.proof.json" --vk "$out/acc.vk" --srs "$out/ds.srs"
echo "== poai audit --dataset (rebuild the model from ONNX, recompute the key and the dataset root, verify)"
poai audit "$dir/model.onnx" --compiled "$out/$model.poai" --proof "$out/acc.proof.json" --vk "$out/acc.vk" --srs "$out/ds.srs" --dataset "$dir/test.jsonl"
