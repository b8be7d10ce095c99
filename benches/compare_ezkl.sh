#!/usr/bin/env bash
# poai vs EZKL on the same machine, same fixtures: prove and setup time, peak memory, proof size.
# Needs `pip install ezkl` (23.x). Usage: [PARAMS=fixed|hashed] bash benches/compare_ezkl.sh [FIXTURE ...]
# PARAMS=fixed (default): EZKL's defaults (fixed parameters, public input) against poai with fixed
#   parameters and a private input.
# PARAMS=hashed: both hash the parameters and the input and publish the digests (poai's defaults).
# EZKL_CALIBRATE=0 skips EZKL's calibration (its uncalibrated settings are used).
# BACKEND=sumcheck compares the sumcheck backend instead (PARAMS=fixed only, public input like EZKL's
#   default: the only visibilities that backend proves so far); its setup is the SRS alone.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
backend="${BACKEND:-halo2}"
cargo build -q --release -p poai-benches --bin prove_table --bin sumcheck_table
fixtures=("${@:-mlp}")
params="${PARAMS:-fixed}"
case "$params" in
  fixed) ezkl_env=(); poai_flags=(--param-visibility fixed --input-visibility private) ;;
  hashed) ezkl_env=(EZKL_PARAM_VISIBILITY=hashed EZKL_INPUT_VISIBILITY=hashed)
    poai_flags=(--param-visibility hashed --input-visibility hashed) ;;
  *) echo "PARAMS must be fixed or hashed" >&2; exit 2 ;;
esac
work=$(mktemp -d)
peak() { /usr/bin/time -f "%M" "$@" 2>"$work/time" >"$work/out"; tail -1 "$work/time"; }
echo "parameters: $params"
echo "| fixture | system | setup s | prove s | peak MB (prove) | proof bytes |"
echo "|---|---|---|---|---|---|"
for f in "${fixtures[@]}"; do
  d="$work/$f"
  env "${ezkl_env[@]}" python3 benches/ezkl_step.py prepare "$f" "$d" >&2
  sk=$(peak python3 benches/ezkl_step.py setup "$f" "$d"); st=$(awk '/setup/{print $2}' "$work/out")
  pk=$(peak python3 benches/ezkl_step.py prove "$f" "$d"); pt=$(awk '/prove/{print $2}' "$work/out")
  python3 benches/ezkl_step.py verify "$f" "$d" >/dev/null
  size=$(python3 -c "import json;print(len(bytes.fromhex(json.load(open('$d/proof.json'))['hex_proof'][2:])))" 2>/dev/null || echo "?")
  echo "| $f | EZKL $(python3 -c 'import ezkl;print(ezkl.__version__)') | $st | $pt | $((pk / 1024)) | $size |"
  if [ "$backend" = sumcheck ]; then
    pp=$(peak "$target/release/sumcheck_table" --runs 1 "$f"); row=$(grep "^| $f " "$work/out")
    IFS='|' read -r _ _ packed _ _ _ _ _ _ _ _ _ _ pr _ _ <<<"$row"
    echo "| $f | poai sumcheck (packed ${packed// /}, peak incl. key) | - | ${pr// /} | $((pp / 1024)) | - |"
    continue
  fi
  pp=$(peak "$target/release/prove_table" "${poai_flags[@]}" "$f"); row=$(grep "^| $f " "$work/out")
  IFS='|' read -r _ _ k degree rows _ lay kg pr vf bytes _ <<<"$row"
  echo "| $f | poai (k=${k// /}, peak incl. SRS+keygen) | ${kg// /} | ${pr// /} | $((pp / 1024)) | ${bytes// /} |"
done
rm -rf "$work"
