#!/usr/bin/env bash
# poai vs EZKL on the same machine, same fixtures: prove and setup time, peak memory, proof size.
# Needs `pip install ezkl` (23.x). Usage: bash benches/compare_ezkl.sh [FIXTURE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p poai-benches --bin prove_table
fixtures=("${@:-mlp}")
work=$(mktemp -d)
peak() { /usr/bin/time -f "%M" "$@" 2>"$work/time" >"$work/out"; tail -1 "$work/time"; }
echo "| fixture | system | setup s | prove s | peak MB (prove) | proof bytes |"
echo "|---|---|---|---|---|---|"
for f in "${fixtures[@]}"; do
  d="$work/$f"
  python3 benches/ezkl_step.py prepare "$f" "$d" >/dev/null
  sk=$(peak python3 benches/ezkl_step.py setup "$f" "$d"); st=$(awk '/setup/{print $2}' "$work/out")
  pk=$(peak python3 benches/ezkl_step.py prove "$f" "$d"); pt=$(awk '/prove/{print $2}' "$work/out")
  python3 benches/ezkl_step.py verify "$f" "$d" >/dev/null
  size=$(python3 -c "import json;print(len(bytes.fromhex(json.load(open('$d/proof.json'))['hex_proof'][2:])))" 2>/dev/null || echo "?")
  echo "| $f | EZKL $(python3 -c 'import ezkl;print(ezkl.__version__)') | $st | $pt | $((pk / 1024)) | $size |"
  pp=$(POAI_INPUT_VISIBILITY=private peak target/release/prove_table "$f"); row=$(grep "^| $f " "$work/out")
  IFS='|' read -r _ _ k degree rows _ lay kg pr vf bytes _ <<<"$row"
  echo "| $f | poai (k=${k// /}, peak incl. SRS+keygen) | ${kg// /} | ${pr// /} | $((pp / 1024)) | ${bytes// /} |"
done
rm -rf "$work"
