#!/usr/bin/env bash
# The proof-of-AI reward loop on a real local Ethereum node: prove inference with poai, start anvil on
# 127.0.0.1, deploy the generated verifier and the reward contract, register the model, post a task
# (reward escrowed), submit the proof as the compute provider, and show the provider being paid.
# Nothing leaves the machine. Needs the npm tools in tools/ (installed here if missing).
#
# The proof that goes on chain is the model proof compressed by `poai prove --onchain` (keys from `poai
# setup-onchain`), so the verifier fits EIP-170's 24 KB limit and anvil runs with mainnet's limits. The
# compression takes a few minutes on two cores (ONCHAIN_K sets its size; default 21). BATCH=N (with
# ONCHAIN_K=22 for N = 2, ~20 GB and ~16 minutes on two cores) compresses N proofs into one and pays N
# tasks with one `submitBatch`: one verification shared by the batch.
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-sigmoid_tanh_mlp}"
dir="models/$model"
out="${OUT_DIR:-out}/onchain-$model"
mkdir -p "$out"
bin=tools/bin
[ -d tools/node_modules/@foundry-rs ] || npm ci --prefix tools --no-audit --no-fund
export POAI_SOLC="${POAI_SOLC:-$PWD/tools/bin/solc}"
cargo build -q -p poai-cli
poai() { "${CARGO_TARGET_DIR:-target}/debug/poai" "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

echo "== keys for $model, its verifier and the reward contract"
poai compile "$dir/model.onnx" --calibration "$dir/calibration.json" -o "$out/m.poai" >/dev/null
onchain_k="${ONCHAIN_K:-21}"
batch_size="${BATCH:-1}"
poai srs --k "$onchain_k" -o "$out/dev.srs" >/dev/null 2>&1
poai setup "$out/m.poai" --srs "$out/dev.srs" --pk "$out/m.pk" --vk "$out/m.vk" 2>/dev/null
poai setup-onchain --vk "$out/m.vk" --srs "$out/dev.srs" --k "$onchain_k" --batch "$batch_size" \
  --onchain-pk "$out/onchain.pk" --onchain-vk "$out/onchain.vk" 2>/dev/null
verifier_info=$(poai evm-verifier --vk "$out/onchain.vk" --srs "$out/dev.srs" -o "$out/Verifier.sol" \
  --bytecode "$out/verifier.hex" --json 2>/dev/null)
poai rewards-contract -o "$out/PoaiRewards.sol" --bytecode "$out/rewards.hex"
model_commitment=$(echo "$verifier_info" | json '["model_commitment"]')
instances=$(echo "$verifier_info" | json '["instance_count"]')
model_index=$(echo "$verifier_info" | json '["model_index"]')
echo "verifier: $(echo "$verifier_info" | json '["runtime_bytes"]') bytes of runtime code (EIP-170 limit: 24,576)"
bound_index=$(echo "$verifier_info" | json '["bound_index"]')
bound_count=$(echo "$verifier_info" | json '["bound_count"]')
count_index=$(echo "$verifier_info" | json '["count_index"]')
batch=$(echo "$verifier_info" | json '["batch"]')
# One input per inference: the bundled one, and for a batch scaled copies (the contract pays each
# inference once, so a batch of one input repeated would pay one task).
inputs=()
commitments=()
for i in $(seq 0 $((batch_size - 1))); do
  python3 - "$dir/input.json" "$out/input-$i.json" "$i" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
scale = 1 - 0.05 * int(sys.argv[3])
data["input_data"] = [[v * scale for v in t] for t in data["input_data"]]
json.dump(data, open(sys.argv[2], "w"))
PY
  inputs+=(--input "$out/input-$i.json")
  commitments+=("$(poai commit-input "$out/m.poai" --input "$out/input-$i.json" --json | json '["input_commitments"][0]')")
done

port="${ANVIL_PORT:-8545}"
rpc="http://127.0.0.1:$port"
echo "== anvil on $rpc"
"$bin/anvil" --host 127.0.0.1 --port "$port" --silent &
anvil_pid=$!
trap 'kill $anvil_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do "$bin/cast" block-number --rpc-url "$rpc" >/dev/null 2>&1 && break; sleep 0.1; done
cast() { local sub=$1; shift; "$bin/cast" "$sub" --rpc-url "$rpc" "$@"; }
read -r owner requester provider < <(cast rpc eth_accounts | json '[0:3]' | tr -d "[]',")
send() { local from=$1; shift; cast send --unlocked --from "$from" --json "$@"; }

echo "== prove $batch_size inference(s) with poai, bound to the provider's address $provider (a copied proof pays nobody else)"
poai prove "$out/m.poai" "${inputs[@]}" --pk "$out/m.pk" --srs "$out/dev.srs" --provider "$provider" \
  --onchain "$out/onchain.pk" -o "$out/proof.json"
poai verify "$out/proof.json" --vk "$out/onchain.vk" --srs "$out/dev.srs" 2>/dev/null | head -1
proof_bytes=$(poai calldata "$out/proof.json" -o "$out/calldata.hex" --json | json '["proof_bytes"]')

echo "== deploy the verifier and the reward contract"
verifier=$(send "$owner" --create "$(cat "$out/verifier.hex")" | json '["contractAddress"]')
rewards=$(send "$owner" --create "$(cat "$out/rewards.hex")" | json '["contractAddress"]')
echo "verifier $verifier, rewards $rewards"
echo "verification alone: $(cast estimate --from "$provider" "$verifier" "$(tr -d '\n' < "$out/calldata.hex")") gas"

echo "== register the model ($batch_size inference(s) per proof), post $batch_size task(s) with 1 ETH reward each"
# A registration is (model, verifier, call-data layout); its id is their hash, which a task names.
registration_type="(bytes32,address,uint32,uint32,uint32,uint32,uint32,uint32,uint32)"
registration="($model_commitment,$verifier,$instances,$proof_bytes,$model_index,$bound_index,$bound_count,$count_index,$batch)"
send "$owner" "$rewards" "registerModel($registration_type)" "$registration" >/dev/null
registration_id=$(cast call "$rewards" "registrationId($registration_type)(bytes32)" "$registration")
deadline=$(( $(cast block latest --field timestamp) + 3600 ))
ids=()
for commitment in "${commitments[@]}"; do
  send "$requester" --value 1ether "$rewards" "postTask(bytes32,bytes32[],uint32,uint64)" "$registration_id" \
    "[$commitment]" 0 "$deadline" >/dev/null
  ids+=("$(cast call "$rewards" "taskCount()(uint256)")")
done
echo "task(s) ${ids[*]}: registration $registration_id (model $model_commitment), inputs ${commitments[*]}"
# One task: submit(id, calldata); a batch: submitBatch([ids], calldata).
submission() {
  if [ "$batch_size" = 1 ]; then
    echo "submit(uint256,bytes)" "${ids[0]}"
  else
    echo "submitBatch(uint256[],bytes)" "[$(IFS=,; echo "${ids[*]}")]"
  fi
}
read -r signature task_arg < <(submission)

echo "== another account front-runs with the provider's call data: refused (WrongProvider)"
if send "$requester" "$rewards" "$signature" "$task_arg" "$(cat "$out/calldata.hex")" >/dev/null 2>&1; then
  echo "a copied proof was paid to another account" >&2
  exit 1
fi
echo "refused"

echo "== the provider submits the proof"
before=$(cast balance "$provider")
receipt=$(send "$provider" "$rewards" "$signature" "$task_arg" "$(cat "$out/calldata.hex")")
after=$(cast balance "$provider")
gas=$(echo "$receipt" | json '["gasUsed"]')
price=$(echo "$receipt" | json '["effectiveGasPrice"]')
paid=0
for id in "${ids[@]}"; do
  if [ "$(cast call "$rewards" "taskStatus(uint256)(uint8)" "$id")" = 2 ]; then paid=$((paid + 1)); fi
done
python3 - "$before" "$after" "$gas" "$price" "$paid" "$batch_size" <<'PY'
import sys
before, after, gas, price, paid, n = (int(x, 0) for x in sys.argv[1:])
print(f"{paid} of {n} task(s) paid; submission used {gas:,} gas ({gas // n:,} per task)")
print(f"provider balance {before / 1e18:.6f} -> {after / 1e18:.6f} ETH "
      f"(+{(after - before) / 1e18:.6f}: the {n} ETH of rewards minus {gas * price / 1e18:.6f} ETH of gas)")
if paid != n or after - before + gas * price != n * 10**18:
    sys.exit("the provider was not paid exactly the rewards")
PY
