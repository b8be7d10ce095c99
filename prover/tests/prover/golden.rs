//! Golden artifacts: the formats that reach files and that registered models and issued keys rest on.
//! For `models/sigmoid_tanh_mlp` with fixed and with hashed parameters and for `models/attention` with
//! hashed ones (hashed inputs, public outputs), and for `models/sigmoid_tanh_mlp` on the sumcheck
//! backend (public inputs and outputs, fixed parameters), `verifier/tests/golden/` holds the verifying
//! key, a proof, and `summary.json` (each model commitment, each key's `k` and SHA-256, the development
//! SRS seed). Between them the keys use 14 of the 26 gates, so their numbering is pinned by real keys too
//! (and wholly by `gate_numbers_are_append_only` in the circuits' tests). This test recomputes the commitment and both
//! keys from the ONNX file and requires the committed bytes; the verifier crate's own test verifies the
//! committed proofs with the verifier alone. A change to the graph's serialisation (the commitment), a
//! gate's numbering or the circuit (the key), or the key encoding fails here.
//!
//! Regenerate only on purpose, after bumping the version of the format that changed (and saying so in
//! the commit): `POAI_REGENERATE_GOLDEN=1 cargo test -p poai-prover --test prover golden`.

use std::path::PathBuf;

use poai_circuits::halo2::{ParamVisibility, Visibility, VisibilitySettings};
use poai_prover::{circuit_k, prove_model, read_pk, setup, sumcheck, CircuitKind, ProofTarget, Srs};
use poai_verifier::VerifyingKeyFile;

use crate::kzg::compiled;

/// The development SRS seed the golden keys are made with (the verifier's test derives `s·G2` from it).
const SEED: u64 = 22;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../verifier/tests/golden")
}

const REGENERATE: &str = "POAI_REGENERATE_GOLDEN";

/// The fixtures and parameter visibilities with golden halo2 artifacts (hashed inputs, public outputs).
const GOLDEN: [(&str, ParamVisibility); 3] = [
    ("sigmoid_tanh_mlp", ParamVisibility::Fixed),
    ("sigmoid_tanh_mlp", ParamVisibility::Hashed),
    ("attention", ParamVisibility::Hashed),
];

/// The fixture with golden sumcheck-backend artifacts.
const GOLDEN_SUMCHECK: &str = "sigmoid_tanh_mlp";

/// A golden artifact: its name, the model, the input, the key's `k`, and the key files made with `srs`.
struct Golden {
    name: String,
    model: poai_circuits::model::CompiledModel,
    input: Vec<Vec<f32>>,
    k: u32,
    sumcheck: bool,
}

impl Golden {
    fn kind(&self) -> CircuitKind {
        let vis = if self.sumcheck {
            VisibilitySettings {
                input: Visibility::Public,
                output: Visibility::Public,
                params: ParamVisibility::Fixed,
            }
        } else {
            let params =
                if self.name.ends_with("-fixed") { ParamVisibility::Fixed } else { ParamVisibility::Hashed };
            VisibilitySettings { params, ..VisibilitySettings::default() }
        };
        CircuitKind::plain(vis)
    }

    fn setup(&self, srs: &Srs) -> (Vec<u8>, Vec<u8>) {
        if self.sumcheck {
            sumcheck::setup(&self.model, srs, self.kind()).unwrap()
        } else {
            setup(&self.model, srs, self.kind()).unwrap()
        }
    }

    fn prove(&self, srs: &Srs, pk: &[u8]) -> poai_verifier::ProofFile {
        let provider = poai_verifier::Provider::NONE;
        if self.sumcheck {
            sumcheck::prove(&self.model, srs, &sumcheck::read_pk(pk).unwrap(), &self.input, provider).unwrap()
        } else {
            prove_model(&self.model, srs, &read_pk(pk).unwrap(), &self.input, provider, ProofTarget::Direct)
                .unwrap()
        }
    }
}

/// Every golden artifact, halo2's then the sumcheck backend's.
fn goldens() -> Vec<Golden> {
    let mut all: Vec<Golden> = GOLDEN
        .iter()
        .map(|&(fixture, params)| {
            let (model, input) = compiled(fixture);
            let kind = CircuitKind::plain(VisibilitySettings { params, ..VisibilitySettings::default() });
            let k = circuit_k(&model, kind).unwrap();
            Golden { name: format!("{fixture}-{params}"), model, input, k, sumcheck: false }
        })
        .collect();
    let (model, input) = compiled(GOLDEN_SUMCHECK);
    let k = sumcheck::packed_k(&model).unwrap();
    all.push(Golden { name: format!("{GOLDEN_SUMCHECK}-sumcheck"), model, input, k, sumcheck: true });
    all
}

#[test]
fn golden_commitment_and_keys_are_reproduced() {
    let regenerate = std::env::var(REGENERATE).is_ok_and(|v| v == "1");
    let dir = golden_dir();
    let mut summary = serde_json::json!({ "srs_seed": SEED, "artifacts": {} });
    let remedy = format!(
        "a format or circuit change: if it is intended, bump the version of the format that changed, say so \
         in the commit, and regenerate with {REGENERATE}=1 (see prover/tests/prover/golden.rs)"
    );
    for golden in goldens() {
        let (name, k) = (&golden.name, golden.k);
        let srs = Srs::generate_insecure(k, SEED).unwrap();
        let (pk, vk) = golden.setup(&srs);
        let key = VerifyingKeyFile::from_bytes(&vk).unwrap();
        summary["artifacts"][name] = serde_json::json!({
            "model_commitment": golden.model.model_commitment,
            "k": k,
            "vk_sha256": key.sha256,
        });
        let vk_path = dir.join(format!("{name}.vk"));
        if regenerate {
            let proof = golden.prove(&srs, &pk);
            std::fs::write(&vk_path, &vk).unwrap();
            std::fs::write(dir.join(format!("{name}.proof.json")), proof.to_json().unwrap()).unwrap();
        } else {
            let golden = std::fs::read(&vk_path)
                .unwrap_or_else(|e| panic!("{}: {e}; generate it with {REGENERATE}=1", vk_path.display()));
            assert!(vk == golden, "the verifying key {name} differs from {}: {remedy}", vk_path.display());
        }
    }
    let summary_path = dir.join("summary.json");
    let text = serde_json::to_string_pretty(&summary).unwrap() + "\n";
    if regenerate {
        std::fs::write(&summary_path, text).unwrap();
    } else {
        let golden = std::fs::read_to_string(&summary_path).unwrap_or_default();
        assert_eq!(text, golden, "{} differs: {remedy}", summary_path.display());
    }
}

/// The canonical description of each golden fixture's quantised graph (everything the model commitment
/// hashes besides the parameter values: every `QOp` with its fields, formats, shapes, wiring) is pinned
/// byte for byte, so a renamed or reordered field of `QOp`, `FixedFormat` or the description fails here
/// with the JSON path of the first difference, not only as a changed commitment.
#[test]
fn golden_graph_descriptions_are_reproduced() {
    let regenerate = std::env::var(REGENERATE).is_ok_and(|v| v == "1");
    for fixture in ["sigmoid_tanh_mlp", "attention"] {
        let (model, _) = compiled(fixture);
        let bytes = poai_circuits::commit::graph_description(&model.graph);
        let path = golden_dir().join(format!("{fixture}.description.json"));
        if regenerate {
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let golden = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; generate it with {REGENERATE}=1", path.display()));
        if bytes != golden {
            let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
            let at = first_difference(&parse(&golden), &parse(&bytes), "$")
                .unwrap_or_else(|| "the same JSON in other bytes (key order or number formatting)".into());
            panic!(
                "the graph description of {fixture} differs from {}: {at}. Model commitments of every \
                 registered model would change; if intended, bump the description version, say so in the \
                 commit and regenerate with {REGENERATE}=1",
                path.display()
            );
        }
    }
}

/// The JSON path and values of the first place `golden` and `now` differ.
fn first_difference(golden: &serde_json::Value, now: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (golden, now) {
        (Value::Object(g), Value::Object(n)) => {
            let (gk, nk): (Vec<_>, Vec<_>) = (g.keys().collect(), n.keys().collect());
            if gk != nk {
                let gone: Vec<_> = gk.iter().filter(|k| !n.contains_key(k.as_str())).collect();
                let new: Vec<_> = nk.iter().filter(|k| !g.contains_key(k.as_str())).collect();
                return Some(format!(
                    "at {path} the golden fields {gone:?} are now {new:?} (golden {gk:?}, now {nk:?})"
                ));
            }
            g.iter().find_map(|(k, v)| first_difference(v, &n[k], &format!("{path}.{k}")))
        }
        (Value::Array(g), Value::Array(n)) if g.len() == n.len() => g
            .iter()
            .zip(n)
            .enumerate()
            .find_map(|(i, (a, b))| first_difference(a, b, &format!("{path}[{i}]"))),
        (g, n) if g == n => None,
        (g, n) => {
            let short = |v: &Value| v.to_string().chars().take(120).collect::<String>();
            Some(format!("at {path} golden {} is now {}", short(g), short(n)))
        }
    }
}
