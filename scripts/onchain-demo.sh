#!/usr/bin/env bash
# The proof-of-AI reward loop on a real local Ethereum node: prove inference with poai, start anvil on
# 127.0.0.1, deploy the generated verifier and the reward contract, register the model, post a task
# (reward escrowed), submit the proof as the compute provider, and show the provider being paid.
# Nothing leaves the machine. Needs the npm tools in tools/ (installed here if missing).
#
# The proof that goes on chain is the model proof compressed by `poai prove --onchain` (keys from `poai
# setup-onchain`), so the verifier fits EIP-170's 24 KB limit and anvil runs with mainnet's limits. The
# compression takes a few minutes on two cores (ONCHAIN_K sets its size; default 21).
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
poai srs --k "$onchain_k" -o "$out/dev.srs" >/dev/null 2>&1
poai setup "$out/m.poai" --srs "$out/dev.srs" --pk "$out/m.pk" --vk "$out/m.vk" 2>/dev/null
poai setup-onchain --vk "$out/m.vk" --srs "$out/dev.srs" --k "$onchain_k" \
  --onchain-pk "$out/onchain.pk" --onchain-vk "$out/onchain.vk" 2>/dev/null
verifier_info=$(poai evm-verifier --vk "$out/onchain.vk" --srs "$out/dev.srs" -o "$out/Verifier.sol" \
  --bytecode "$out/verifier.hex" --json 2>/dev/null)
poai rewards-contract -o "$out/PoaiRewards.sol" --bytecode "$out/rewards.hex"
model_commitment=$(echo "$verifier_info" | json '["model_commitment"]')
instances=$(echo "$verifier_info" | json '["instance_count"]')
model_index=$(echo "$verifier_info" | json '["model_index"]')
echo "verifier: $(echo "$verifier_info" | json '["runtime_bytes"]') bytes of runtime code (EIP-170 limit: 24,576)"
input_index=$(echo "$verifier_info" | json '["input_index"]')
input_commitment=$(poai commit-input "$out/m.poai" --input "$dir/input.json" --json | json '["input_commitments"][0]')

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

echo "== prove with poai, bound to the provider's address $provider (a copied proof pays nobody else)"
poai prove "$out/m.poai" --input "$dir/input.json" --pk "$out/m.pk" --srs "$out/dev.srs" --provider "$provider" \
  --onchain "$out/onchain.pk" -o "$out/proof.json"
poai verify "$out/proof.json" --vk "$out/onchain.vk" --srs "$out/dev.srs" 2>/dev/null | head -1
poai calldata "$out/proof.json" -o "$out/calldata.hex"

echo "== deploy the verifier and the reward contract"
verifier=$(send "$owner" --create "$(cat "$out/verifier.hex")" | json '["contractAddress"]')
rewards=$(send "$owner" --create "$(cat "$out/rewards.hex")" | json '["contractAddress"]')
echo "verifier $verifier, rewards $rewards"
echo "verification alone: $(cast estimate --from "$provider" "$verifier" "$(tr -d '\n' < "$out/calldata.hex")") gas"

echo "== register the model, post a task with 1 ETH reward"
send "$owner" "$rewards" "registerModel(bytes32,address,uint32,uint32,uint32)" "$model_commitment" "$verifier" \
  "$instances" "$model_index" "$input_index" >/dev/null
deadline=$(( $(cast block latest --field timestamp) + 3600 ))
send "$requester" --value 1ether "$rewards" "postTask(bytes32,bytes32,uint64)" "$model_commitment" \
  "$input_commitment" "$deadline" >/dev/null
task=$(cast call "$rewards" "taskCount()(uint256)")
echo "task $task: model $model_commitment, input $input_commitment"

echo "== another account front-runs with the provider's call data: refused (WrongProvider)"
if send "$requester" "$rewards" "submit(uint256,bytes)" "$task" "$(cat "$out/calldata.hex")" >/dev/null 2>&1; then
  echo "a copied proof was paid to another account" >&2
  exit 1
fi
echo "refused"

echo "== the provider submits the proof"
before=$(cast balance "$provider")
receipt=$(send "$provider" "$rewards" "submit(uint256,bytes)" "$task" "$(cat "$out/calldata.hex")")
after=$(cast balance "$provider")
gas=$(echo "$receipt" | json '["gasUsed"]')
price=$(echo "$receipt" | json '["effectiveGasPrice"]')
status=$(cast call "$rewards" "taskStatus(uint256)(uint8)" "$task")
python3 - "$before" "$after" "$gas" "$price" "$status" <<'PY'
import sys
before, after, gas, price, status = (int(x, 0) for x in sys.argv[1:])
print(f"task status {status} (2 = paid); submission used {gas:,} gas")
print(f"provider balance {before / 1e18:.6f} -> {after / 1e18:.6f} ETH "
      f"(+{(after - before) / 1e18:.6f}: the 1 ETH reward minus {gas * price / 1e18:.6f} ETH of gas)")
if status != 2 or after - before + gas * price != 10**18:
    sys.exit("the provider was not paid exactly the reward")
PY
