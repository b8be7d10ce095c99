//! `prove`, `prove-accuracy`: proofs of inference on inputs or dataset rows, and of accuracy over rows.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use poai::{Job, OnchainProvingKey, ProofFile, ProveOptions, Provider};
use serde_json::json;

use super::check::describe_all;
use crate::output::{line, with_spinner, write_atomic};

/// What every proving command takes: the key, the SRS, the output, and the provider to bind.
#[derive(clap::Args)]
pub struct ProveArgs {
    /// Proving key.
    #[arg(long)]
    pk: PathBuf,
    /// SRS file.
    #[arg(long)]
    srs: PathBuf,
    /// Output proof file (JSON).
    #[arg(short, long)]
    output: PathBuf,
    /// Bind the proof to this compute provider's address (the reward contract pays only it).
    #[arg(long)]
    provider: Option<Provider>,
    /// Compress the proof for on-chain verification with this on-chain proving key (`poai
    /// setup-onchain`); the SRS must reach the on-chain key's k. Verify it with the on-chain verifying key.
    #[arg(long, value_name = "ONCHAIN_PK")]
    onchain: Option<PathBuf>,
}

impl ProveArgs {
    /// Loads the artifacts, proves `job` under a spinner and writes the proof.
    fn prove(
        &self,
        model: &Path,
        job: impl FnOnce() -> anyhow::Result<Loaded>,
        json: bool,
    ) -> anyhow::Result<()> {
        let compiled = poai::load::compiled_model(model)?;
        let pk = poai::load::proving_key(&self.pk)?;
        let onchain: Option<OnchainProvingKey> =
            self.onchain.as_deref().map(poai::load::onchain_proving_key).transpose()?;
        let loaded = job()?;
        let options = ProveOptions { provider: self.provider.unwrap_or_default(), onchain: onchain.as_ref() };
        // The job's fit to the keys is checked before the SRS (the largest file) is read.
        poai::check_job(&pk, &loaded.job(), &options).map_err(|e| self.cannot_prove(e))?;
        let srs = poai::load::srs(&self.srs)?;
        let msg = match (&loaded, onchain.is_some()) {
            (Loaded::Accuracy(_, rows), _) => {
                format!("proving accuracy on rows {}..{}", rows.start, rows.end)
            }
            (_, true) => "proving, then compressing for on-chain verification (minutes)".into(),
            (_, false) => "proving".into(),
        };
        let t = Instant::now();
        let proof = with_spinner(&msg, json, || poai::prove(&compiled, &srs, &pk, loaded.job(), &options))
            .map_err(|e| self.cannot_prove(e))?;
        write_proof(&self.output, &proof, t, json)
    }

    /// A proving error with the proving key named and, for a mismatch, the command that fits.
    fn cannot_prove(&self, e: poai::Error) -> anyhow::Error {
        let hint = match e {
            poai::Error::AccuracyKeyForOneRow { .. } => " (use `poai prove-accuracy`)",
            poai::Error::InputCount { .. } => {
                " (a batch of N inputs needs `--onchain` with a key from `poai setup-onchain --batch N`)"
            }
            _ => "",
        };
        anyhow::Error::new(e).context(format!("cannot prove with {}{hint}", self.pk.display()))
    }
}

/// A job's inputs, read from their files.
enum Loaded {
    Inputs(Vec<Vec<Vec<f32>>>),
    Row((poai::DatasetFile, poai::MerkleTree), usize),
    Accuracy((poai::DatasetFile, poai::MerkleTree), Range<usize>),
}

impl Loaded {
    fn job(&self) -> Job<'_> {
        match self {
            Loaded::Inputs(inputs) => Job::Inputs(inputs),
            Loaded::Row(dataset, row) => Job::Row { dataset, row: *row },
            Loaded::Accuracy(dataset, rows) => Job::Accuracy { dataset, rows: rows.clone() },
        }
    }
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

/// Prove quantised inference of a compiled model on an input, or on one row of a committed dataset.
#[derive(clap::Args)]
pub struct Prove {
    /// Compiled model.
    model: PathBuf,
    /// Input file (`{"input_data": [[...]]}`); repeat it N times with an on-chain key of batch N
    /// (one proof of N inferences).
    #[arg(long, required_unless_present = "dataset", conflicts_with = "dataset")]
    input: Vec<PathBuf>,
    /// Dataset file: prove inference on row `--row` (keys from `setup --dataset`).
    #[arg(long, requires = "row")]
    dataset: Option<PathBuf>,
    /// Row of the dataset (0-based).
    #[arg(long, requires = "dataset")]
    row: Option<usize>,
    #[command(flatten)]
    out: ProveArgs,
}

impl Prove {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let load = || -> anyhow::Result<Loaded> {
            Ok(match (&self.input[..], &self.dataset, self.row) {
                ([], Some(dataset), Some(row)) => Loaded::Row(poai::load::dataset(dataset)?, row),
                ([], _, _) => anyhow::bail!("give --input, or --dataset with --row"),
                (files, _, _) => {
                    Loaded::Inputs(files.iter().map(|f| poai::load::input(f)).collect::<Result<_, _>>()?)
                }
            })
        };
        self.out.prove(&self.model, load, json)
    }
}

/// Prove inference on rows A..B of a committed dataset and how many of them the model classifies as
/// labelled: public are only the dataset root, the model, the range and the count.
#[derive(clap::Args)]
pub struct ProveAccuracy {
    /// Compiled model.
    model: PathBuf,
    /// Dataset file.
    #[arg(long)]
    dataset: PathBuf,
    /// Rows `A..B` (B - A must be the batch the keys were made for; keys from `setup --dataset --batch`).
    #[arg(long, value_parser = row_range)]
    rows: Range<usize>,
    #[command(flatten)]
    out: ProveArgs,
}

impl ProveAccuracy {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        let load = || Ok(Loaded::Accuracy(poai::load::dataset(&self.dataset)?, self.rows.clone()));
        self.out.prove(&self.model, load, json)
    }
}

/// Parses `A..B` with `A < B`.
fn row_range(s: &str) -> Result<Range<usize>, String> {
    let parse = || -> Option<(usize, usize)> {
        let (a, b) = s.split_once("..")?;
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    match parse() {
        Some((a, b)) if a < b => Ok(a..b),
        _ => Err(format!("must be A..B with A < B (e.g. 0..32), got `{s}`")),
    }
}
