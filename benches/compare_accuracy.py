"""Accuracy of poai and EZKL against the float model, on the same samples.

Usage: python3 benches/compare_accuracy.py FIXTURE EZKL_WORKDIR [SAMPLES [POAI_COMPILE_ARGS ...]]
EZKL_WORKDIR is a directory prepared by `benches/ezkl_step.py prepare` (EZKL's calibrated, compiled
circuit); poai compiles the fixture with its default settings or the `poai compile` options given
(e.g. `--weight-bits 14`), with `target/release/poai` (built first).
Samples: the fixture's `test.jsonl` if it has one (held out from calibration), otherwise its calibration
inputs (both systems calibrate on them). The float reference is onnxruntime (`pip install onnxruntime`).
Prints one table row per system: max and mean absolute error over all outputs of all samples, the max as
a share of the float outputs' range, and how many samples' argmax agrees with the float model's.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime
import ezkl

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def samples(fixture, size, limit):
    src = os.path.join(ROOT, "models", fixture)
    test = os.path.join(src, "test.jsonl")
    if os.path.exists(test):
        with open(test) as f:
            rows = [json.loads(line)["input"] for line in f if line.strip()]
        return rows[:limit], "test.jsonl"
    with open(os.path.join(src, "calibration.json")) as f:
        flat = [x for chunk in json.load(f)["input_data"] for x in chunk]
    rows = [flat[i:i + size] for i in range(0, len(flat) - size + 1, size)]
    return rows[:limit], "calibration.json"


def main():
    fixture, ezkl_dir = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    compile_args = sys.argv[4:]
    src = os.path.join(ROOT, "models", fixture)
    onnx_path = os.path.join(src, "model.onnx")
    session = onnxruntime.InferenceSession(onnx_path)
    meta = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in meta.shape]
    size = int(np.prod(shape))
    rows, origin = samples(fixture, size, limit)
    poai = os.path.join(ROOT, "target", "release", "poai")
    # Inputs, EZKL witnesses and the compiled model live in a scratch directory removed afterwards.
    with tempfile.TemporaryDirectory() as work:
        compiled = os.path.join(work, "model.poai")
        subprocess.run([poai, "compile", onnx_path, "--calibration", os.path.join(src, "calibration.json"),
                        "-o", compiled, *compile_args], check=True, capture_output=True)
        errors = {"poai": [], "EZKL": []}
        agree = {"poai": 0, "EZKL": 0}
        lo, hi = np.inf, -np.inf
        for i, row in enumerate(rows):
            x = np.asarray(row, dtype=np.float32).reshape(shape)
            ref = np.concatenate([o.ravel() for o in session.run(None, {meta.name: x})])
            lo, hi = min(lo, ref.min()), max(hi, ref.max())
            input_path = os.path.join(work, f"input{i}.json")
            with open(input_path, "w") as f:
                json.dump({"input_data": [list(map(float, row))]}, f)
            out = subprocess.run([poai, "--json", "run", compiled, "--input", input_path], check=True,
                                 capture_output=True, text=True)
            got = {"poai": np.array([v for o in json.loads(out.stdout)["outputs"] for v in o])}
            witness = os.path.join(work, f"witness{i}.json")
            ezkl.gen_witness(input_path, os.path.join(ezkl_dir, "model.compiled"), witness)
            with open(witness) as f:
                pretty = json.load(f)["pretty_elements"]["rescaled_outputs"]
            got["EZKL"] = np.array([float(v) for o in pretty for v in o])
            for system, values in got.items():
                errors[system].append(np.abs(values - ref))
                agree[system] += int(np.argmax(values) == np.argmax(ref))
    settings = " ".join(compile_args) or "defaults"
    print(f"{fixture}: {len(rows)} samples from {origin}, float output range {hi - lo:.4g}, poai {settings}")
    print("| fixture | system | max abs error | mean abs error | max, % of range | argmax agrees |")
    print("|---|---|---|---|---|---|")
    for system, errs in errors.items():
        e = np.concatenate(errs)
        print(f"| {fixture} | {system} | {e.max():.2e} | {e.mean():.2e} | {100 * e.max() / (hi - lo):.3f}% | "
              f"{agree[system]}/{len(rows)} |")


if __name__ == "__main__":
    main()
