//! Subcommand implementations: argument handling and printing around library calls.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use poai_circuits::commit::merkle::MerkleTree;
use poai_circuits::halo2::{DatasetMode, LayoutGoal, ParamVisibility, Visibility, VisibilitySettings};
use poai_onnx::{io, CompiledModel, QuantConfig};
use poai_prover::{CircuitKind, DatasetFile, ProofTarget};
use poai_verifier::{Claims, ProofFile, Provider, VerifierParams, VerifyingKeyFile};
use serde_json::json;

use crate::output::{line, note, write_atomic};

fn spinner(msg: &str, json: bool) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

pub fn inspect(model: &Path, json: bool) -> anyhow::Result<()> {
    let g = match poai_onnx::load_onnx(model) {
        Ok(g) => g,
        Err(poai_onnx::OnnxError::Unsupported { ops }) => {
            if json {
                line(&json!({ "supported": false, "unsupported": ops.iter().map(|(n, o)| json!({"node": n, "op": o})).collect::<Vec<_>>() }).to_string());
            } else {
                line(&format!("{}: {} unsupported op(s)", model.display(), ops.len()));
                for (n, o) in &ops {
                    line(&format!("  {o:<20} node `{n}`"));
                }
            }
            anyhow::bail!("{} uses ops poai does not support", model.display());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot import {}", model.display())),
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for n in &g.nodes {
        *counts.entry(n.op.name()).or_default() += 1;
    }
    if json {
        let nodes: Vec<_> = g
            .nodes
            .iter()
            .map(|n| json!({"name": n.name, "op": n.op.name(), "output_shape": g.shape(&n.output)}))
            .collect();
        line(&json!({
            "supported": true,
            "opset": g.opset,
            "inputs": g.inputs.iter().map(|(n, s)| json!({"name": n, "shape": s})).collect::<Vec<_>>(),
            "outputs": g.outputs.iter().map(|o| json!({"name": o, "shape": g.shape(o)})).collect::<Vec<_>>(),
            "parameters": g.param_count(),
            "op_counts": counts,
            "nodes": nodes,
            "unsupported": [],
        }).to_string());
        return Ok(());
    }
    line(&format!("{} (opset {})", model.display(), g.opset));
    for (n, s) in &g.inputs {
        line(&format!("  input  {n}: {s:?}"));
    }
    for o in &g.outputs {
        line(&format!("  output {o}: {:?}", g.shape(o).unwrap_or(&[])));
    }
    line(&format!("  parameters: {}", g.param_count()));
    line(&format!("  ops after normalisation ({}):", g.nodes.len()));
    for n in &g.nodes {
        line(&format!("    {:<12} {:<40} -> {:?}", n.op.name(), n.name, g.shape(&n.output).unwrap_or(&[])));
    }
    line("  unsupported ops: none");
    Ok(())
}

pub fn compile(
    model: &Path,
    calibration: &Path,
    output: &Path,
    cfg: &QuantConfig,
    json: bool,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let pb = spinner("importing and calibrating", json);
    let g = poai_onnx::load_onnx(model).with_context(|| format!("cannot import {}", model.display()))?;
    let data = io::read_input_file(calibration)?;
    let compiled = poai_onnx::compile_graph(&g, model, &data, calibration, cfg)?;
    let shapes: Vec<Vec<usize>> = g.inputs.iter().map(|(_, s)| s.clone()).collect();
    let samples = io::split_samples(&data, &shapes, calibration)?;
    pb.set_message("measuring accuracy");
    let report = poai_onnx::accuracy(&compiled, &g, &samples)?;
    pb.finish_and_clear();
    write_atomic(output, &compiled.to_json()?)?;
    if json {
        line(
            &json!({
                "output": output,
                "model_commitment": compiled.model_commitment,
                "parameters": compiled.graph.param_count(),
                "nodes": compiled.graph.nodes.len(),
                "calibration_samples": compiled.calibration_samples,
                "accuracy": report,
            })
            .to_string(),
        );
    } else {
        line(&format!("compiled {} -> {} in {:.2?}", model.display(), output.display(), t.elapsed()));
        line(&format!("  model commitment: {}", compiled.model_commitment));
        line(&format!(
            "  integer ops: {}, parameters: {}",
            compiled.graph.nodes.len(),
            compiled.graph.param_count()
        ));
        line(&format!(
            "  accuracy on {} calibration samples: max abs error {:.5} ({:.3}% of output range), mean {:.5}, argmax agreement {:.1}%",
            report.samples,
            report.max_abs_error,
            100.0 * report.relative_max_error(),
            report.mean_abs_error,
            100.0 * report.argmax_agreement
        ));
    }
    Ok(())
}

pub fn load_compiled(path: &Path) -> anyhow::Result<CompiledModel> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    CompiledModel::from_json(&bytes)
        .with_context(|| format!("{} is not a valid compiled model", path.display()))
}

pub fn run(model: &Path, input: &Path, reference: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let compiled = load_compiled(model)?;
    let data = io::read_input_file(input)?;
    let outputs = compiled
        .run(&data)
        .with_context(|| format!("cannot run {} on {}", model.display(), input.display()))?;
    let report = match reference {
        Some(onnx) => {
            let g =
                poai_onnx::load_onnx(onnx).with_context(|| format!("cannot import {}", onnx.display()))?;
            let shapes: Vec<Vec<usize>> = g.inputs.iter().map(|(_, s)| s.clone()).collect();
            let samples = io::split_samples(&data, &shapes, input)?;
            Some(poai_onnx::accuracy(&compiled, &g, &samples)?)
        }
        None => None,
    };
    if json {
        let mut v = json!({ "outputs": outputs, "model_commitment": compiled.model_commitment });
        if let Some(r) = &report {
            v["accuracy"] = json!(r);
        }
        line(&v.to_string());
        return Ok(());
    }
    for (i, o) in outputs.iter().enumerate() {
        let shown: Vec<String> = o.iter().take(32).map(|v| format!("{v:.5}")).collect();
        let more = if o.len() > 32 { format!(" … ({} values)", o.len()) } else { String::new() };
        line(&format!("output {i}: [{}]{more}", shown.join(", ")));
    }
    line(&format!("model commitment: {}", compiled.model_commitment));
    if let Some(r) = report {
        line(&format!(
            "vs float reference: max abs error {:.5} ({:.3}% of output range), mean {:.5}, argmax agreement {:.0}%",
            r.max_abs_error,
            100.0 * r.relative_max_error(),
            r.mean_abs_error,
            100.0 * r.argmax_agreement
        ));
    } else {
        note("(pass --reference MODEL.onnx to compare with the float model)");
    }
    Ok(())
}

/// Visibility settings, the dataset file keys are bound to (if any), the accuracy batch (if any) and the
/// layout goal.
pub type KindArgs<'a> = (VisibilitySettings, Option<&'a Path>, Option<u32>, LayoutGoal);

/// The circuit kind the arguments ask for (a dataset file, checked against the model, gives the tree
/// depth).
fn circuit_kind(
    compiled: &CompiledModel,
    (vis, dataset, batch, layout): KindArgs<'_>,
) -> anyhow::Result<CircuitKind> {
    let Some(path) = dataset else {
        return Ok(CircuitKind::plain(vis).with_layout(layout));
    };
    let (d, _) = read_dataset(path)?;
    d.check_model(compiled)?;
    let mode = match batch {
        Some(batch) => DatasetMode::Accuracy { depth: d.depth, batch },
        None => DatasetMode::Membership { depth: d.depth },
    };
    Ok(CircuitKind::bound(vis, mode).with_layout(layout))
}

fn read_dataset(path: &Path) -> anyhow::Result<(DatasetFile, MerkleTree)> {
    Ok(DatasetFile::from_json(&read(path)?, path)?)
}

pub fn srs(
    k: Option<u32>,
    model: Option<&Path>,
    kind: KindArgs<'_>,
    output: &Path,
    seed: u64,
    json: bool,
) -> anyhow::Result<()> {
    let k = match (k, model) {
        (Some(k), _) => k,
        (None, Some(m)) => {
            let compiled = load_compiled(m)?;
            poai_prover::circuit_k(&compiled, circuit_kind(&compiled, kind)?)?
        }
        (None, None) => anyhow::bail!("give --k or --model"),
    };
    note("WARNING: generating an INSECURE development SRS. Its secret follows from the public seed; proofs");
    note("made with it can be forged. Use a ceremony SRS (--srs FILE) for anything of value.");
    let t = Instant::now();
    let pb = spinner(&format!("generating 2^{k} powers"), json);
    let srs = poai_prover::Srs::generate_insecure(k, seed)?;
    srs.write(output)?;
    pb.finish_and_clear();
    if json {
        line(&json!({ "output": output, "k": k, "insecure_dev_setup": true, "seed": seed }).to_string());
    } else {
        line(&format!(
            "wrote INSECURE development SRS k = {k} to {} in {:.2?}",
            output.display(),
            t.elapsed()
        ));
    }
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn setup(
    model: &Path,
    srs: &Path,
    pk: &Path,
    vk: &Path,
    kind_args: KindArgs<'_>,
    json: bool,
) -> anyhow::Result<()> {
    let vis = kind_args.0;
    if vis.output == Visibility::Private {
        anyhow::bail!(
            "outputs can be public or hashed, not private (a proof of an unseen output proves nothing)"
        );
    }
    let compiled = load_compiled(model)?;
    let kind = circuit_kind(&compiled, kind_args)?;
    let srs_file = read_setup_srs(srs)?;
    let t = Instant::now();
    let pb = spinner("generating keys", json);
    let (pk_bytes, vk_bytes) = poai_prover::setup(&compiled, &srs_file, kind)?;
    pb.finish_and_clear();
    write_atomic(pk, &pk_bytes)?;
    write_atomic(vk, &vk_bytes)?;
    let written = read_vk(vk)?;
    let k = written.header.k;
    if json {
        line(
            &json!({
                "pk": pk,
                "vk": vk,
                "vk_sha256": written.sha256,
                "k": k,
                "model_commitment": compiled.model_commitment,
                "visibility": vis,
                "dataset": kind.dataset,
                "layout": kind.layout.to_string(),
            })
            .to_string(),
        );
    } else {
        let what = match kind.dataset {
            None => format!("inputs {}, outputs {}", vis.input, vis.output),
            Some(DatasetMode::Membership { depth }) => {
                format!("one dataset row of a depth-{depth} tree, outputs {}", vis.output)
            }
            Some(DatasetMode::Accuracy { depth, batch }) => {
                format!("accuracy over {batch} rows of a depth-{depth} tree")
            }
        };
        let what = match vis.params {
            ParamVisibility::Hashed => {
                format!("{what}, parameters hashed: the keys fit any model of this architecture")
            }
            ParamVisibility::Fixed => format!("{what}, parameters fixed in the keys"),
        };
        let what = match kind.layout {
            LayoutGoal::Fast => what,
            LayoutGoal::Narrow => format!("{what}, narrow layout (fewest columns)"),
        };
        line(&format!(
            "keys for k = {k} ({what}) written to {} and {} in {:.2?}",
            pk.display(),
            vk.display(),
            t.elapsed()
        ));
        line(&format!(
            "verifying key SHA-256 {} (publish it: `poai verify --vk-sha256` refuses any other key)",
            written.sha256
        ));
    }
    Ok(())
}

/// Reads the SRS keys are made with, warning loudly when it is a development setup.
fn read_setup_srs(srs: &Path) -> anyhow::Result<poai_prover::Srs> {
    let srs_file = poai_prover::Srs::read(srs)?;
    if srs_file.header().insecure_dev_setup {
        note("WARNING: this SRS is an INSECURE development setup; proofs made with it can be forged.");
    }
    Ok(srs_file)
}

pub fn setup_onchain(
    vk: &Path,
    srs: &Path,
    (pk_out, vk_out): (&Path, &Path),
    (k, batch): (u32, usize),
    json: bool,
) -> anyhow::Result<()> {
    let model_vk = read_vk(vk)?;
    let srs_file = read_setup_srs(srs)?;
    let t = Instant::now();
    let pb = spinner(
        &format!("generating the on-chain keys (compression circuit, k = {k}, batch {batch}; minutes)"),
        json,
    );
    let (pk_bytes, vk_bytes) = poai_prover::setup_onchain(&model_vk, &srs_file, k, batch)?;
    pb.finish_and_clear();
    write_atomic(pk_out, &pk_bytes)?;
    write_atomic(vk_out, &vk_bytes)?;
    let written = VerifyingKeyFile::from_bytes(&vk_bytes)?;
    let header = &written.header;
    let columns = header.onchain.as_ref().map(|o| (o.num_advice, o.num_lookup_advice, o.num_fixed));
    if json {
        line(
            &json!({
                "pk": pk_out,
                "vk": vk_out,
                "vk_sha256": written.sha256,
                "k": k,
                "model_k": model_vk.header.k,
                "batch": batch,
                "instances": header.instance_count(),
                "columns": columns.map(|(a, l, f)| json!({"advice": a, "lookup_advice": l, "fixed": f})),
            })
            .to_string(),
        );
    } else {
        let (a, l, f) = columns.unwrap_or_default();
        line(&format!(
            "on-chain keys for k = {k} ({a} advice, {l} lookup, {f} fixed columns; verifies {batch} proof(s) of \
             the k = {} model circuit at a time) written to {} and {} in {:.2?}",
            model_vk.header.k,
            pk_out.display(),
            vk_out.display(),
            t.elapsed()
        ));
        line(&format!("verifying key SHA-256 {}", written.sha256));
    }
    Ok(())
}

/// What `poai prove` proves inference on.
pub enum ProveInput {
    /// Input files: one, or one per inference of a batched on-chain key.
    Files(Vec<PathBuf>),
    /// A row of a dataset file.
    Row(PathBuf, usize),
    /// Neither was given.
    Missing,
}

/// The keys `poai prove` uses: the model's proving key and, for an on-chain proof, the on-chain key.
pub type ProveKeys<'a> = (&'a Path, Option<&'a Path>);

fn read_onchain_pk(path: Option<&Path>) -> anyhow::Result<Option<poai_prover::OnchainProvingKey>> {
    path.map(|p| {
        poai_prover::read_onchain_pk(&read(p)?)
            .with_context(|| format!("{} is not a usable on-chain proving key", p.display()))
    })
    .transpose()
}

fn target(onchain: Option<&poai_prover::OnchainProvingKey>) -> ProofTarget<'_> {
    onchain.map_or(ProofTarget::Direct, ProofTarget::Onchain)
}

fn proving_message(onchain: bool) -> &'static str {
    if onchain {
        "proving, then compressing for on-chain verification (minutes)"
    } else {
        "proving"
    }
}

pub fn prove(
    model: &Path,
    input: &ProveInput,
    provider: Provider,
    (pk, onchain): ProveKeys<'_>,
    srs: &Path,
    output: &Path,
    json: bool,
) -> anyhow::Result<()> {
    let compiled = load_compiled(model)?;
    let pk_key = read_pk_file(pk)?;
    let onchain = read_onchain_pk(onchain)?;
    let srs_file = poai_prover::Srs::read(srs)?;
    let t = Instant::now();
    let proof = match input {
        ProveInput::Files(paths) => {
            let batch = onchain.as_ref().map_or(1, |o| o.header.batch());
            if paths.len() != batch {
                anyhow::bail!(
                    "{} --input file(s) given; {}",
                    paths.len(),
                    if batch == 1 {
                        "give one (several only with an on-chain key made with `setup-onchain --batch N`)"
                            .into()
                    } else {
                        format!("the on-chain key proves batches of {batch} inferences: give {batch}")
                    }
                );
            }
            let data = paths.iter().map(|p| io::read_input_file(p)).collect::<Result<Vec<_>, _>>()?;
            let pb = spinner(proving_message(onchain.is_some()), json);
            let proof = match (&onchain, data.as_slice()) {
                (_, [one]) => poai_prover::prove_model(
                    &compiled,
                    &srs_file,
                    &pk_key,
                    one,
                    provider,
                    target(onchain.as_ref()),
                )?,
                (Some(onchain), many) => {
                    poai_prover::prove_batch(&compiled, &srs_file, &pk_key, many, provider, onchain)?
                }
                (None, _) => anyhow::bail!("several inputs need a batched on-chain key (--onchain)"),
            };
            pb.finish_and_clear();
            proof
        }
        ProveInput::Row(path, row) => {
            let dataset = read_dataset(path)?;
            if let Some(DatasetMode::Accuracy { .. }) = pk_key.0.dataset {
                anyhow::bail!("{} is an accuracy key: use `poai prove-accuracy`", pk.display());
            }
            let pb = spinner(proving_message(onchain.is_some()), json);
            let proof = poai_prover::prove_rows(
                &compiled,
                &srs_file,
                &pk_key,
                &dataset,
                *row,
                provider,
                target(onchain.as_ref()),
            )?;
            pb.finish_and_clear();
            proof
        }
        ProveInput::Missing => anyhow::bail!("give --input, or --dataset with --row"),
    };
    write_proof(output, &proof, t, json)
}

fn read_pk_file(pk: &Path) -> anyhow::Result<poai_prover::ProvingKeyFile> {
    poai_prover::read_pk(&read(pk)?).with_context(|| format!("{} is not a usable proving key", pk.display()))
}

fn write_proof(output: &Path, proof: &ProofFile, t: Instant, json: bool) -> anyhow::Result<()> {
    write_atomic(output, &proof.to_json()?)?;
    if json {
        line(
            &json!({
                "proof": output,
                "model_commitment": proof.model_commitment,
                "claims": proof.claims,
                "batch_claims": proof.batch_claims,
            })
            .to_string(),
        );
    } else {
        line(&format!("proof written to {} in {:.2?}", output.display(), t.elapsed()));
        describe_all(&proof.claims, &proof.batch_claims);
    }
    Ok(())
}

/// Parses `A..B`.
fn row_range(s: &str) -> anyhow::Result<(usize, usize)> {
    let parse = || -> Option<(usize, usize)> {
        let (a, b) = s.split_once("..")?;
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    match parse() {
        Some((a, b)) if a < b => Ok((a, b)),
        _ => anyhow::bail!("--rows must be A..B with A < B (e.g. 0..32), got `{s}`"),
    }
}

pub fn prove_accuracy(
    model: &Path,
    dataset: &Path,
    (rows, provider): (&str, Provider),
    (pk, onchain): ProveKeys<'_>,
    srs: &Path,
    output: &Path,
    json: bool,
) -> anyhow::Result<()> {
    let (start, end) = row_range(rows)?;
    let compiled = load_compiled(model)?;
    let pk_key = read_pk_file(pk)?;
    let onchain = read_onchain_pk(onchain)?;
    let Some(DatasetMode::Accuracy { batch, .. }) = pk_key.0.dataset else {
        anyhow::bail!("{} is not an accuracy key (set up with --dataset and --batch)", pk.display());
    };
    if end - start != batch as usize {
        anyhow::bail!("rows {start}..{end} are {} rows; the key proves batches of {batch}", end - start);
    }
    let data = read_dataset(dataset)?;
    let srs_file = poai_prover::Srs::read(srs)?;
    let t = Instant::now();
    let pb = spinner(&format!("proving accuracy on rows {start}..{end}"), json);
    let proof = poai_prover::prove_rows(
        &compiled,
        &srs_file,
        &pk_key,
        &data,
        start,
        provider,
        target(onchain.as_ref()),
    )?;
    pb.finish_and_clear();
    write_proof(output, &proof, t, json)
}

pub fn dataset_commit(data: &Path, compiled: &Path, output: &Path, json: bool) -> anyhow::Result<()> {
    let model = load_compiled(compiled)?;
    let text = std::fs::read_to_string(data).with_context(|| format!("cannot read {}", data.display()))?;
    let t = Instant::now();
    let d = DatasetFile::from_jsonl(&text, data, &model)?;
    write_atomic(output, &d.to_json()?)?;
    let labelled = d.data.iter().filter(|r| r.label.is_some()).count();
    if json {
        line(
            &json!({ "output": output, "root": d.root, "rows": d.rows, "depth": d.depth, "labelled": labelled })
                .to_string(),
        );
    } else {
        line(&format!(
            "committed {} rows ({labelled} labelled) of {} to {} in {:.2?}",
            d.rows,
            data.display(),
            output.display(),
            t.elapsed()
        ));
        line(&format!("  dataset root: {} (depth {})", d.root, d.depth));
    }
    Ok(())
}

fn read_vk(path: &Path) -> anyhow::Result<VerifyingKeyFile> {
    VerifyingKeyFile::from_bytes(&read(path)?)
        .with_context(|| format!("{} is not a usable verifying key", path.display()))
}

fn read_proof(path: &Path) -> anyhow::Result<ProofFile> {
    ProofFile::from_json(&read(path)?).with_context(|| format!("{} is not a poai proof file", path.display()))
}

/// Verifier parameters from an SRS file: only its two ends are read (header, `k`, the first power; `G2`,
/// `s·G2`), so this is instant at any size.
fn read_verifier_params(path: &Path) -> anyhow::Result<VerifierParams> {
    use poai_verifier::srs::{SRS_HEAD_BYTES, SRS_TAIL_BYTES};
    use std::io::{Read, Seek, SeekFrom};
    let ends = || -> std::io::Result<(Vec<u8>, Vec<u8>, u64)> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let mut head = Vec::new();
        f.by_ref().take(SRS_HEAD_BYTES as u64).read_to_end(&mut head)?;
        let mut tail = Vec::new();
        if len >= SRS_TAIL_BYTES as u64 {
            f.seek(SeekFrom::End(-(SRS_TAIL_BYTES as i64)))?;
            f.read_to_end(&mut tail)?;
        }
        Ok((head, tail, len))
    };
    let (head, tail, len) = ends().with_context(|| format!("cannot read {}", path.display()))?;
    let params = VerifierParams::from_srs_ends(&head, &tail, len)
        .with_context(|| format!("{} is not a usable SRS", path.display()))?;
    if params.insecure_dev_setup() {
        note("WARNING: this SRS is an INSECURE development setup; proofs checked with it can be forged.");
    }
    Ok(params)
}

pub fn verify(
    proof: &Path,
    vk: &Path,
    vk_sha256: Option<&str>,
    srs: &Path,
    json: bool,
) -> anyhow::Result<()> {
    let file = read_proof(proof)?;
    let vk_key = read_vk(vk)?;
    if let Some(pinned) = vk_sha256 {
        vk_key.expect_sha256(pinned).with_context(|| format!("{} is refused", vk.display()))?;
    }
    let params = read_verifier_params(srs)?;
    let verified = poai_verifier::verify(&vk_key, &params, &file)
        .with_context(|| format!("{} does not verify", proof.display()))?;
    if json {
        line(
            &json!({
                "valid": true,
                "model_commitment": verified.model_commitment,
                "vk_sha256": vk_key.sha256,
                "vk_pinned": vk_sha256.is_some(),
                "claims": verified.claims,
                "batch_claims": verified.batch_claims,
            })
            .to_string(),
        );
    } else {
        line(&format!("valid proof for model {}", verified.model_commitment));
        match vk_sha256 {
            Some(_) => line(&format!("  under the pinned verifying key {}", vk_key.sha256)),
            None => line(&format!(
                "  under verifying key {} (not pinned: check it is the one its owner published)",
                vk_key.sha256
            )),
        }
        describe_all(&verified.claims, &verified.batch_claims);
    }
    Ok(())
}

/// Prints a proof's public claims: of its one inference, or of each inference of a batch in turn.
fn describe_all(first: &Claims, further: &[Claims]) {
    if further.is_empty() {
        return describe(first);
    }
    for (i, c) in std::iter::once(first).chain(further).enumerate() {
        line(&format!("  inference {}:", i + 1));
        describe(c);
    }
}

/// Prints one inference's public claims, one per line.
fn describe(c: &Claims) {
    for (i, x) in c.inputs.iter().enumerate() {
        line(&format!("  public input {i}: {x:?}"));
    }
    for (i, h) in c.input_commitments.iter().enumerate() {
        line(&format!("  input {i} commitment: {h}"));
    }
    for (i, y) in c.outputs.iter().enumerate() {
        line(&format!("  output {i}: {y:?}"));
    }
    for (i, h) in c.output_commitments.iter().enumerate() {
        line(&format!("  output {i} commitment: {h}"));
    }
    if let Some(root) = &c.dataset_root {
        line(&format!("  dataset root: {root}"));
    }
    if let (Some([start, end]), Some(correct), Some(total)) = (c.rows, c.correct, c.total) {
        line(&format!("  rows {start}..{end}: the model scores {correct}/{total}"));
    }
    if let Some(p) = &c.provider {
        line(&format!("  bound to provider {p}"));
    }
}

pub fn commit_input(model: &Path, input: &Path, json: bool) -> anyhow::Result<()> {
    let compiled = load_compiled(model)?;
    let data = io::read_input_file(input)?;
    let commitments = compiled
        .input_commitments(&data)
        .with_context(|| format!("cannot commit to {} for {}", input.display(), model.display()))?;
    if json {
        line(&json!({ "input_commitments": commitments }).to_string());
    } else {
        for (i, c) in commitments.iter().enumerate() {
            line(&format!("input {i} commitment: {c}"));
        }
    }
    Ok(())
}

/// What `poai audit` checks, in order.
pub struct AuditPaths<'a> {
    pub onnx: &'a Path,
    pub compiled: &'a Path,
    pub proof: &'a Path,
    pub vk: &'a Path,
    pub srs: &'a Path,
    pub dataset: Option<&'a Path>,
}

/// Recomputes everything a proof's claim rests on from the ONNX file: the quantised graph and its
/// commitment (from the compile settings and calibrated ranges recorded in the compiled model), the
/// verifying key (byte for byte: it fixes the circuit and the weights), then verifies the proof.
pub fn audit(p: &AuditPaths<'_>, json: bool) -> anyhow::Result<()> {
    let compiled = load_compiled(p.compiled)?;
    let g = poai_onnx::load_onnx(p.onnx).with_context(|| format!("cannot import {}", p.onnx.display()))?;
    let rebuilt = poai_onnx::reproduce(&g, &compiled).with_context(|| {
        format!("cannot quantise {} with the settings of {}", p.onnx.display(), p.compiled.display())
    })?;
    if rebuilt.model_commitment != compiled.model_commitment {
        anyhow::bail!(
            "{} is not the model compiled into {}: its commitment is {}, the compiled model's is {}",
            p.onnx.display(),
            p.compiled.display(),
            rebuilt.model_commitment,
            compiled.model_commitment
        );
    }
    let vk_bytes = read(p.vk)?;
    let vk_key = VerifyingKeyFile::from_bytes(&vk_bytes)
        .with_context(|| format!("{} is not a usable verifying key", p.vk.display()))?;
    let srs_file = poai_prover::Srs::read(p.srs)?;
    let pb = spinner("recomputing the verifying key", json);
    let kind = CircuitKind::of(&vk_key.header);
    let expected = poai_prover::verifying_key_file(&rebuilt, &srs_file, kind)?;
    pb.finish_and_clear();
    let same_key = if kind.vis.params == ParamVisibility::Hashed {
        // A hashed-parameter key fits every model of its architecture; the model it was made with is a
        // note in its header. The circuit (halo2 key) and every other header field must be identical.
        let mut e = VerifyingKeyFile::from_bytes(&expected)?;
        e.header.model_commitment.clone_from(&vk_key.header.model_commitment);
        e.header == vk_key.header && e.vk.transcript_repr() == vk_key.vk.transcript_repr()
    } else {
        expected == vk_bytes
    };
    if !same_key {
        anyhow::bail!(
            "{} is not the verifying key of {} (recomputed from {} and {}, the bytes differ)",
            p.vk.display(),
            p.onnx.display(),
            p.compiled.display(),
            p.srs.display()
        );
    }
    let file = read_proof(p.proof)?;
    let verified = poai_verifier::verify(&vk_key, &srs_file.verifier_params()?, &file)
        .with_context(|| format!("{} does not verify", p.proof.display()))?;
    if verified.model_commitment != rebuilt.model_commitment {
        anyhow::bail!(
            "{} proves model {}, not {} (commitment {})",
            p.proof.display(),
            verified.model_commitment,
            p.onnx.display(),
            rebuilt.model_commitment
        );
    }
    let mut checked =
        vec!["onnx reproduces the compiled model", "verifying key recomputed", "proof verifies"];
    if let Some(data) = p.dataset {
        let claimed = verified
            .claims
            .dataset_root
            .as_deref()
            .with_context(|| format!("{} is not bound to a dataset", p.proof.display()))?;
        let text =
            std::fs::read_to_string(data).with_context(|| format!("cannot read {}", data.display()))?;
        let root = DatasetFile::from_jsonl(&text, data, &rebuilt)?.root;
        if root != claimed {
            anyhow::bail!(
                "{} is not the dataset of {}: its root is {root}, the proof's {claimed}",
                data.display(),
                p.proof.display()
            );
        }
        checked.push("dataset root recomputed");
    }
    if json {
        line(
            &json!({
                "valid": true,
                "model_commitment": verified.model_commitment,
                "vk_sha256": vk_key.sha256,
                "claims": verified.claims,
                "batch_claims": verified.batch_claims,
                "checked": checked,
            })
            .to_string(),
        );
    } else {
        line(&format!(
            "{} reproduces {} (commitment {})",
            p.onnx.display(),
            p.compiled.display(),
            rebuilt.model_commitment
        ));
        line(&format!(
            "{} is this model's verifying key (recomputed, identical, header included; SHA-256 {})",
            p.vk.display(),
            vk_key.sha256
        ));
        if let Some(data) = p.dataset {
            line(&format!("{} hashes to the proof's dataset root", data.display()));
        }
        line(&format!("{} verifies:", p.proof.display()));
        describe_all(&verified.claims, &verified.batch_claims);
    }
    Ok(())
}

/// Arguments of `poai evm-verifier`.
pub struct EvmVerifierArgs<'a> {
    pub vk: &'a Path,
    pub srs: &'a Path,
    pub output: &'a Path,
    pub abi: Option<&'a Path>,
    pub bytecode: Option<&'a Path>,
    pub solc: Option<&'a Path>,
    pub allow_oversized: bool,
}

fn solc_for(solc: Option<&Path>) -> poai_contracts::solc::Solc {
    solc.map(poai_contracts::solc::Solc::new).unwrap_or_else(poai_contracts::solc::Solc::from_env)
}

fn hex_file(bytes: &[u8]) -> Vec<u8> {
    format!("0x{}\n", poai_verifier::hex::encode(bytes)).into_bytes()
}

pub fn evm_verifier(a: &EvmVerifierArgs<'_>, json: bool) -> anyhow::Result<()> {
    let key = read_vk(a.vk)?;
    let params = read_verifier_params(a.srs)?;
    let source = poai_contracts::solidity::verifier_solidity(&key, &params)?;
    let pb = spinner("compiling the verifier", json);
    let compiled = solc_for(a.solc).compile_one("Verifier.sol", &source, "Halo2Verifier", None)?;
    pb.finish_and_clear();
    if let Err(e) = compiled.check_deployable() {
        if !a.allow_oversized {
            let remedy = match (&key.header.onchain, key.header.layout) {
                (None, _) => format!(
                    "make on-chain keys with `poai setup-onchain --vk {}` and generate the verifier from the \
                     on-chain verifying key",
                    a.vk.display()
                ),
                (Some(_), LayoutGoal::Fast) => "make the on-chain keys at a larger --k, or over a model key \
                     made with `poai setup --layout narrow` (fewer model-circuit columns to verify)"
                    .into(),
                (Some(_), LayoutGoal::Narrow) => "make the on-chain keys at a larger --k".into(),
            };
            return Err(anyhow::Error::new(e).context(format!(
                "the verifier for {} cannot be deployed on mainnet (nothing written): {remedy}",
                a.vk.display()
            )));
        }
        note(&format!("WARNING: {e}; written for a local chain without the limit only (--allow-oversized)"));
    }
    write_atomic(a.output, source.as_bytes())?;
    if let Some(abi) = a.abi {
        write_atomic(abi, &serde_json::to_vec_pretty(&compiled.abi)?)?;
    }
    if let Some(b) = a.bytecode {
        write_atomic(b, &hex_file(&compiled.creation))?;
    }
    let layout = poai_contracts::rewards::instance_layout(&key.header)?;
    let instances = layout.count;
    if json {
        line(
            &json!({
                "output": a.output,
                "runtime_bytes": compiled.runtime.len(),
                "deployable": compiled.check_deployable().is_ok(),
                "model_commitment": key.header.model_commitment,
                "instance_count": instances,
                "model_index": layout.model_index,
                "bound_index": layout.bound_index,
                "bound_count": layout.bound_count,
                "count_index": layout.count_index,
                "batch": layout.batch,
            })
            .to_string(),
        );
    } else {
        line(&format!(
            "verifier written to {} ({} bytes of runtime code; {instances} public instances)",
            a.output.display(),
            compiled.runtime.len()
        ));
    }
    Ok(())
}

pub fn rewards_contract(
    output: &Path,
    bytecode: Option<&Path>,
    abi: Option<&Path>,
    solc: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let compiled = poai_contracts::rewards::compile_rewards(&solc_for(solc))?;
    write_atomic(output, poai_contracts::rewards::REWARDS_SOURCE.as_bytes())?;
    if let Some(b) = bytecode {
        write_atomic(b, &hex_file(&compiled.creation))?;
    }
    if let Some(abi) = abi {
        write_atomic(abi, &serde_json::to_vec_pretty(&compiled.abi)?)?;
    }
    if json {
        line(&json!({ "output": output, "runtime_bytes": compiled.runtime.len() }).to_string());
    } else {
        line(&format!(
            "reward contract written to {} ({} bytes of runtime code)",
            output.display(),
            compiled.runtime.len()
        ));
    }
    Ok(())
}

pub fn calldata(proof: &Path, output: &Path, json: bool) -> anyhow::Result<()> {
    let file = read_proof(proof)?;
    let data = poai_contracts::calldata::calldata(&file)
        .with_context(|| format!("{} has malformed instances or proof bytes", proof.display()))?;
    write_atomic(output, &hex_file(&data))?;
    if json {
        let proof_bytes = data.len() - 32 * file.instances.len();
        line(
            &json!({
                "output": output,
                "bytes": data.len(),
                "instances": file.instances.len(),
                "proof_bytes": proof_bytes,
            })
            .to_string(),
        );
    } else {
        line(&format!("{} bytes of call data written to {}", data.len(), output.display()));
    }
    Ok(())
}
