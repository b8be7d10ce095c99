"""One EZKL step on a poai fixture, so each step runs in its own process (for peak-memory figures).

Usage: python3 benches/ezkl_step.py prepare|setup|prove|verify FIXTURE WORKDIR
Uses EZKL's defaults plus `calibrate_settings(target="resources")`, the settings the issue's reference
figures were taken with. EZKL 23's defaults are public inputs, fixed parameters, public outputs;
`EZKL_INPUT_VISIBILITY` / `EZKL_PARAM_VISIBILITY` (e.g. `hashed`) override them for `prepare`;
`EZKL_CALIBRATE=0` keeps `gen_settings`' uncalibrated settings (calibration with hashed parameters did not
finish within 30 minutes on mlp); `EZKL_SRS=0` skips the SRS (enough for `compare_accuracy.py`, which only
runs EZKL's witness generation).
The SRS is generated locally (`gen_srs`): nothing is downloaded.
"""

import asyncio
import inspect
import json
import os
import sys
import time

import ezkl


def call(f, *args, **kwargs):
    r = f(*args, **kwargs)
    return asyncio.run(r) if inspect.iscoroutine(r) else r


def main():
    step, fixture, work = sys.argv[1], sys.argv[2], sys.argv[3]
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "models", fixture)
    p = lambda name: os.path.join(work, name)
    t = time.time()
    if step == "prepare":
        os.makedirs(work, exist_ok=True)
        args = ezkl.PyRunArgs()
        for field in ("input_visibility", "param_visibility"):
            value = os.environ.get("EZKL_" + field.upper())
            if value:
                setattr(args, field, value)
        call(ezkl.gen_settings, os.path.join(src, "model.onnx"), p("settings.json"), py_run_args=args)
        if os.environ.get("EZKL_CALIBRATE", "1") != "0":
            call(ezkl.calibrate_settings, os.path.join(src, "calibration.json"), os.path.join(src, "model.onnx"),
                 p("settings.json"), "resources")
        call(ezkl.compile_circuit, os.path.join(src, "model.onnx"), p("model.compiled"), p("settings.json"))
        logrows = json.load(open(p("settings.json")))["run_args"]["logrows"]
        if os.environ.get("EZKL_SRS", "1") != "0":
            call(ezkl.gen_srs, p("kzg.srs"), logrows)
        call(ezkl.gen_witness, os.path.join(src, "input.json"), p("model.compiled"), p("witness.json"))
        vis = {k: v for k, v in json.load(open(p("settings.json")))["run_args"].items() if "visibility" in k}
        print(f"logrows {logrows} {vis}")
    elif step == "setup":
        call(ezkl.setup, p("model.compiled"), p("vk.key"), p("pk.key"), p("kzg.srs"))
    elif step == "prove":
        call(ezkl.prove, p("witness.json"), p("model.compiled"), p("pk.key"), p("proof.json"), p("kzg.srs"))
    elif step == "verify":
        assert call(ezkl.verify, p("proof.json"), p("settings.json"), p("vk.key"), p("kzg.srs"))
    print(f"{step} {time.time() - t:.2f} s")


if __name__ == "__main__":
    main()
