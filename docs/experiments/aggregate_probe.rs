// Probe of proof compression for on-chain use (issue 4): aggregate one poai proof in snark-verifier's
// aggregation circuit and measure keygen, proving, verifier size and gas. Not built by the workspace: to
// run it, copy it to contracts/examples/, add "loader_halo2" to snark-verifier-sdk's features in the root
// Cargo.toml (pulls halo2-ecc), then: POAI_SOLC=tools/bin/solc cargo run --release -p poai-contracts
// --example aggregate_probe -- sigmoid_tanh_mlp 21

//! Experiment: cost of compressing a poai proof into snark-verifier's aggregation circuit.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::expect_used, missing_docs)]
use std::time::Instant;

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use poai_circuits::commit::fr_from_hex;
use poai_circuits::halo2::{build_layout_min_k, CircuitShape, ModelCircuit, PoaiConfig, VisibilitySettings};
use poai_contracts::solc::Solc;
use poai_prover::Srs;
use snark_verifier_sdk::evm::{gen_evm_proof_shplonk, gen_evm_verifier_sol_code};
use snark_verifier_sdk::halo2::aggregation::{AggregationCircuit, AggregationConfigParams, VerifierUniversality};
use snark_verifier_sdk::halo2::gen_snark_shplonk;
use snark_verifier_sdk::{gen_pk, CircuitExt, SHPLONK};

#[derive(Clone)]
struct App(ModelCircuit);

impl Circuit<Fr> for App {
    type Config = PoaiConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitShape;
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn params(&self) -> CircuitShape {
        self.0.shape()
    }
    fn configure(m: &mut ConstraintSystem<Fr>) -> PoaiConfig {
        ModelCircuit::configure(m)
    }
    fn configure_with_params(m: &mut ConstraintSystem<Fr>, p: CircuitShape) -> PoaiConfig {
        ModelCircuit::configure_with_params(m, p)
    }
    fn synthesize(&self, c: PoaiConfig, l: impl Layouter<Fr>) -> Result<(), Error> {
        self.0.synthesize(c, l)
    }
}

impl CircuitExt<Fr> for App {
    fn num_instance(&self) -> Vec<usize> {
        vec![self.0.layout.instance.len()]
    }
    fn instances(&self) -> Vec<Vec<Fr>> {
        self.0.instances()
    }
}

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "sigmoid_tanh_mlp".into());
    let outer_k: u32 = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(21);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(&name);
    let cal_path = dir.join("calibration.json");
    let cal = poai_onnx::io::read_input_file(&cal_path).unwrap();
    let model = poai_onnx::compile(&dir.join("model.onnx"), &cal, &cal_path, &Default::default()).unwrap();
    let input = poai_onnx::io::read_input_file(&dir.join("input.json")).unwrap();
    let q = model.quantize_inputs(&input).unwrap();
    let trace = model.graph.eval_trace(&q).unwrap();
    let c = fr_from_hex(&model.model_commitment).unwrap();
    let app = App(ModelCircuit::new(build_layout_min_k(&model.graph, &trace, c, VisibilitySettings::default()).unwrap()));
    let k = app.0.layout.k();
    let t = Instant::now();
    let srs = Srs::generate_insecure(outer_k, 1).unwrap();
    println!("srs k={outer_k}: {:.1?}", t.elapsed());
    let inner = srs.for_circuit(k).unwrap();
    let t = Instant::now();
    let pk = gen_pk(&inner, &app, None);
    let snark = gen_snark_shplonk(&inner, &pk, app, None::<&str>);
    println!("inner k={k} keygen+prove (poseidon transcript): {:.1?}", t.elapsed());
    let params = srs.params().clone();
    let t = Instant::now();
    let mut agg = AggregationCircuit::new::<SHPLONK>(
        CircuitBuilderStage::Keygen,
        AggregationConfigParams { degree: outer_k, lookup_bits: outer_k as usize - 1, ..Default::default() },
        &params,
        [snark.clone()],
        VerifierUniversality::None,
    );
    let cfg = agg.calculate_params(Some(10));
    println!("agg config {:?} built in {:.1?}", cfg, t.elapsed());
    let t = Instant::now();
    let agg_pk = gen_pk(&params, &agg, None);
    let bp = agg.break_points();
    drop(agg);
    println!("agg keygen: {:.1?}", t.elapsed());
    let t = Instant::now();
    let agg = AggregationCircuit::new::<SHPLONK>(CircuitBuilderStage::Prover, cfg, &params, [snark], VerifierUniversality::None)
        .use_break_points(bp);
    let n = agg.num_instance();
    let inst = agg.instances();
    let proof = gen_evm_proof_shplonk(&params, &agg_pk, agg, inst.clone());
    println!("agg prove: {:.1?}, proof {} bytes, instances {:?}", t.elapsed(), proof.len(), n);
    let sol = gen_evm_verifier_sol_code::<AggregationCircuit, SHPLONK>(&params, agg_pk.get_vk(), n);
    let compiled = Solc::from_env().compile_one("V.sol", &sol, "Halo2Verifier", None).unwrap();
    println!("agg verifier runtime {} bytes", compiled.runtime.len());
    let mut evm = poai_contracts::evm::LocalEvm::new();
    evm.allow_oversized_contracts();
    let me = revm::primitives::Address::repeat_byte(1);
    evm.fund(me, revm::primitives::U256::from(10u64).pow(revm::primitives::U256::from(20u64)));
    let (v, _) = evm.deploy(me, compiled.creation, revm::primitives::U256::ZERO).unwrap();
    let data = snark_verifier_sdk::evm::encode_calldata(&inst, &proof);
    let gas = evm.call(me, v, data, revm::primitives::U256::ZERO).unwrap().gas;
    println!("agg verify gas {gas}");
}
