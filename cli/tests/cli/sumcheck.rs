//! `--backend sumcheck` end to end: srs, setup, prove, verify (pinned) and audit on a bundled model,
//! and the refusal of what the backend does not prove yet, naming the remedy.

use crate::{fails_with, models, p, succeeds};

#[test]
fn the_sumcheck_backend_sets_up_proves_verifies_and_audits() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let d = |name: &str| dir.path().join(name);
    let m = models().join("sigmoid_tanh_mlp");
    let onnx = m.join("model.onnx");
    let (model, srs, pk, vk, proof) = (d("m.poai"), d("dev.srs"), d("m.pk"), d("m.vk"), d("proof.json"));
    succeeds(&["compile", p(&onnx), "--calibration", p(&m.join("calibration.json")), "-o", p(&model)]);
    succeeds(&["srs", "--model", p(&model), "--backend", "sumcheck", "-o", p(&srs)]);
    // The backend's own defaults (public inputs and outputs, fixed parameters) need no visibility flags.
    let o = succeeds(&[
        "setup",
        p(&model),
        "--srs",
        p(&srs),
        "--pk",
        p(&pk),
        "--vk",
        p(&vk),
        "--backend",
        "sumcheck",
        "--json",
    ]);
    let setup: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let sha = setup["vk_sha256"].as_str().unwrap_or_default().to_string();
    assert_eq!(sha.len(), 64, "{setup}");
    succeeds(&[
        "prove",
        p(&model),
        "--input",
        p(&m.join("input.json")),
        "--pk",
        p(&pk),
        "--srs",
        p(&srs),
        "-o",
        p(&proof),
        "--provider",
        "0x00000000000000000000000000000000000000aa",
    ]);
    let o = succeeds(&["verify", p(&proof), "--vk", p(&vk), "--srs", p(&srs), "--vk-sha256", &sha, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(v["claims"]["provider"], "0x00000000000000000000000000000000000000aa", "{v}");
    assert_eq!(v["claims"]["inputs"][0].as_array().map(Vec::len), Some(16), "{v}");
    succeeds(&[
        "audit",
        p(&onnx),
        "--compiled",
        p(&model),
        "--proof",
        p(&proof),
        "--vk",
        p(&vk),
        "--srs",
        p(&srs),
    ]);

    // Hashed inputs would leak through a bare sumcheck: refused, naming the remedy; no key written.
    let hashed = d("h.vk");
    fails_with(
        &[
            "setup",
            p(&model),
            "--srs",
            p(&srs),
            "--pk",
            p(&d("h.pk")),
            "--vk",
            p(&hashed),
            "--backend",
            "sumcheck",
            "--input-visibility",
            "hashed",
        ],
        "--backend halo2",
    );
    assert!(!hashed.exists());
    // On-chain keys need a halo2 model key.
    fails_with(
        &[
            "setup-onchain",
            "--vk",
            p(&vk),
            "--srs",
            p(&srs),
            "--onchain-pk",
            p(&d("o.pk")),
            "--onchain-vk",
            p(&d("o.vk")),
        ],
        "halo2 keys only",
    );
}
