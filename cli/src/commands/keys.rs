//! `srs`, `setup`, `setup-onchain`: the KZG parameters and the keys a model's proofs are made and checked
//! with.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use poai::{
    Backend, CompiledModel, DatasetMode, KeyOptions, Keys, LayoutGoal, OnchainOptions, ParamVisibility,
    Visibility, VisibilitySettings,
};
use serde_json::json;

use crate::output::{line, note, warn_insecure_srs, with_spinner, write_atomic};

/// What keys are fixed to besides the model: backend, visibility, dataset binding, layout.
#[derive(clap::Args, Clone)]
pub struct KeyArgs {
    /// Proving system: `halo2` (every visibility, datasets, on-chain proofs) or `sumcheck` (several
    /// times faster; public inputs and outputs with parameters fixed in the key until it is
    /// zero-knowledge).
    #[arg(long, default_value = "halo2")]
    backend: Backend,
    /// Inputs: `hashed` (private; a Poseidon commitment is public), `private` or `public`. Default:
    /// `hashed` on halo2, `public` on sumcheck.
    #[arg(long)]
    input_visibility: Option<Visibility>,
    /// Outputs: `public` (every element is public) or `hashed` (only a commitment is public). Default:
    /// `public`.
    #[arg(long)]
    output_visibility: Option<Visibility>,
    /// Parameters: `hashed` (private witnesses; the circuit computes the model commitment from them, so
    /// the keys fit any model of the architecture) or `fixed` (constants of the circuit bound by the
    /// verifying key: a smaller, faster circuit, but the key reveals the weights). Default: `hashed` on
    /// halo2, `fixed` on sumcheck.
    #[arg(long)]
    param_visibility: Option<ParamVisibility>,
    /// Dataset file: keys for proofs on its rows (membership: the row stays private, the dataset root is
    /// public). Keys fit any dataset of the same depth and input format.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// With `--dataset`: keys for accuracy proofs over this many consecutive rows.
    #[arg(long, requires = "dataset")]
    batch: Option<u32>,
    /// `fast` (the fastest proof; may add Freivalds checks' second-phase columns) or `narrow` (the
    /// fewest columns: slower to prove, but a batched on-chain key over it has a smaller verifier).
    #[arg(long, default_value = "fast")]
    layout: LayoutGoal,
}

impl KeyArgs {
    /// The facade's options for `model` (a dataset file is read and checked against the model).
    fn options(&self, model: &CompiledModel) -> anyhow::Result<KeyOptions> {
        let dataset = match &self.dataset {
            None => None,
            Some(path) => {
                let d = poai::load::dataset(path)?;
                Some(
                    poai::dataset_mode(model, &d, self.batch)
                        .with_context(|| format!("{} does not fit the model", path.display()))?,
                )
            }
        };
        let default = self.backend.default_visibility();
        let visibility = VisibilitySettings {
            input: self.input_visibility.unwrap_or(default.input),
            output: self.output_visibility.unwrap_or(default.output),
            params: self.param_visibility.unwrap_or(default.params),
        };
        Ok(KeyOptions { backend: self.backend, visibility, dataset, layout: self.layout })
    }
}

/// Generate a local development SRS (KZG parameters over BN254). INSECURE: its secret follows from
/// the public seed, so proofs made with it can be forged. For anything of value, supply an SRS from a
/// ceremony (e.g. perpetual powers of tau in halo2's raw format) with `--srs`.
#[derive(clap::Args)]
pub struct Srs {
    /// log2 of the number of rows the SRS supports.
    #[arg(long, required_unless_present = "model")]
    k: Option<u32>,
    /// Size the SRS for this compiled model instead of giving `--k`.
    #[arg(long, conflicts_with = "k")]
    model: Option<PathBuf>,
    /// Output path.
    #[arg(short, long)]
    output: PathBuf,
    /// Seed of the deterministic setup.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The keys the model will be set up with (they change the circuit's size).
    #[command(flatten)]
    keys: KeyArgs,
}

impl Srs {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let k = match (self.k, &self.model) {
            (Some(k), _) => k,
            (None, Some(m)) => {
                let compiled = poai::load::compiled_model(m)?;
                poai::srs_k(&compiled, &self.keys.options(&compiled)?)?
            }
            (None, None) => anyhow::bail!("give --k or --model"),
        };
        note("WARNING: generating an INSECURE development SRS. Its secret follows from the public seed; proofs");
        note("made with it can be forged. Use a ceremony SRS (--srs FILE) for anything of value.");
        let t = Instant::now();
        let srs = with_spinner(&format!("generating 2^{k} powers"), json, || {
            poai::Srs::generate_insecure(k, self.seed)
        })?;
        srs.write(&self.output)?;
        if json {
            line(
                &json!({ "output": self.output, "k": k, "insecure_dev_setup": true, "seed": self.seed })
                    .to_string(),
            );
        } else {
            line(&format!(
                "wrote INSECURE development SRS k = {k} to {} in {:.2?}",
                self.output.display(),
                t.elapsed()
            ));
        }
        Ok(())
    }
}

/// Reads the SRS keys are generated from, warning when it is a development setup.
fn read_setup_srs(path: &Path) -> anyhow::Result<poai::Srs> {
    let srs = poai::load::srs(path)?;
    warn_insecure_srs(srs.header().insecure_dev_setup, "made with");
    Ok(srs)
}

fn write_keys(keys: &Keys, pk: &Path, vk: &Path) -> anyhow::Result<()> {
    write_atomic(pk, &keys.proving)?;
    write_atomic(vk, &keys.verifying)
}

/// Generate the proving and verifying keys of a compiled model.
#[derive(clap::Args)]
pub struct Setup {
    /// Compiled model.
    model: PathBuf,
    /// SRS file (`poai srs`, or halo2 KZG parameters from a ceremony).
    #[arg(long)]
    srs: PathBuf,
    /// Output proving key.
    #[arg(long)]
    pk: PathBuf,
    /// Output verifying key.
    #[arg(long)]
    vk: PathBuf,
    /// What the keys are fixed to.
    #[command(flatten)]
    keys: KeyArgs,
}

impl Setup {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let compiled = poai::load::compiled_model(&self.model)?;
        let options = self.keys.options(&compiled)?;
        let srs = read_setup_srs(&self.srs)?;
        let t = Instant::now();
        let keys = with_spinner("generating keys", json, || poai::setup(&compiled, &srs, &options))?;
        write_keys(&keys, &self.pk, &self.vk)?;
        let (vis, k) = (options.visibility, keys.verifying_key.header.k);
        if json {
            line(
                &json!({
                    "pk": self.pk,
                    "vk": self.vk,
                    "vk_sha256": keys.verifying_key.sha256,
                    "k": k,
                    "backend": options.backend,
                    "model_commitment": compiled.model_commitment,
                    "visibility": vis,
                    "dataset": options.dataset,
                    "layout": options.layout.to_string(),
                })
                .to_string(),
            );
            return Ok(());
        }
        let what = match options.dataset {
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
        let what = match options.layout {
            LayoutGoal::Fast => what,
            LayoutGoal::Narrow => format!("{what}, narrow layout (fewest columns)"),
        };
        line(&format!(
            "{} keys for k = {k} ({what}) written to {} and {} in {:.2?}",
            options.backend,
            self.pk.display(),
            self.vk.display(),
            t.elapsed()
        ));
        line(&format!(
            "verifying key SHA-256 {} (publish it: `poai verify --vk-sha256` refuses any other key)",
            keys.verifying_key.sha256
        ));
        Ok(())
    }
}

/// Generate the on-chain keys for a model's verifying key: a compression circuit that verifies the
/// model's proofs and whose Solidity verifier fits a contract (`poai prove --onchain`, `poai
/// evm-verifier` on the on-chain verifying key).
#[derive(clap::Args)]
pub struct SetupOnchain {
    /// The model's verifying key (`poai setup`).
    #[arg(long)]
    vk: PathBuf,
    /// SRS file; must reach `--k`.
    #[arg(long)]
    srs: PathBuf,
    /// Output on-chain proving key.
    #[arg(long = "onchain-pk")]
    onchain_pk: PathBuf,
    /// Output on-chain verifying key.
    #[arg(long = "onchain-vk")]
    onchain_vk: PathBuf,
    /// log2 of the compression circuit's rows: larger means fewer columns (a cheaper verifier) and a
    /// larger SRS.
    #[arg(long, default_value_t = poai::DEFAULT_ONCHAIN_K)]
    k: u32,
    /// Model proofs per on-chain proof: a batch of N inferences shares one on-chain verification
    /// (prove them with N `--input`s; the reward contract's `submitBatch` pays N tasks with it).
    #[arg(long, default_value_t = 1)]
    batch: usize,
}

impl SetupOnchain {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let model_vk = poai::load::verifying_key(&self.vk)?;
        let srs = read_setup_srs(&self.srs)?;
        let (k, batch) = (self.k, self.batch);
        let t = Instant::now();
        let msg =
            format!("generating the on-chain keys (compression circuit, k = {k}, batch {batch}; minutes)");
        let keys =
            with_spinner(&msg, json, || poai::setup_onchain(&model_vk, &srs, &OnchainOptions { k, batch }))?;
        write_keys(&keys, &self.onchain_pk, &self.onchain_vk)?;
        let header = &keys.verifying_key.header;
        let columns = header.onchain.as_ref().map(|o| (o.num_advice, o.num_lookup_advice, o.num_fixed));
        if json {
            line(
                &json!({
                    "pk": self.onchain_pk,
                    "vk": self.onchain_vk,
                    "vk_sha256": keys.verifying_key.sha256,
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
                self.onchain_pk.display(),
                self.onchain_vk.display(),
                t.elapsed()
            ));
            line(&format!("verifying key SHA-256 {}", keys.verifying_key.sha256));
        }
        Ok(())
    }
}
