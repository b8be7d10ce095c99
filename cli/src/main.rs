//! `poai`: compile ONNX models into quantised circuits, run them, prove and verify their inference, and
//! audit a proof against its ONNX model.

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use poai_circuits::halo2::{LayoutGoal, ParamVisibility, Visibility, VisibilitySettings};

/// Visibility of the model's inputs, outputs and parameters in a proof.
#[derive(clap::Args, Clone, Copy)]
struct VisArgs {
    /// Inputs: `hashed` (private; a Poseidon commitment is public), `private` or `public`.
    #[arg(long, default_value = "hashed")]
    input_visibility: Visibility,
    /// Outputs: `public` (every element is public) or `hashed` (only a commitment is public).
    #[arg(long, default_value = "public")]
    output_visibility: Visibility,
    /// Parameters: `hashed` (private witnesses; the circuit computes the model commitment from them, so
    /// the keys fit any model of the architecture) or `fixed` (constants of the circuit bound by the
    /// verifying key: a smaller, faster circuit, but the key reveals the weights).
    #[arg(long, default_value = "hashed")]
    param_visibility: ParamVisibility,
}

/// Binding keys to a committed dataset (`poai dataset commit`).
#[derive(clap::Args, Clone)]
struct DatasetArgs {
    /// Dataset file: keys for proofs on its rows (membership: the row stays private, the dataset root is
    /// public). Keys fit any dataset of the same depth and input format.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// With `--dataset`: keys for accuracy proofs over this many consecutive rows.
    #[arg(long, requires = "dataset")]
    batch: Option<u32>,
}

/// What the model circuit's layout is chosen for (fixed by the keys).
#[derive(clap::Args, Clone, Copy)]
struct LayoutArgs {
    /// `fast` (the fastest proof; may add Freivalds checks' second-phase columns) or `narrow` (the
    /// fewest columns: slower to prove, but a batched on-chain key over it has a smaller verifier).
    #[arg(long, default_value = "fast")]
    layout: LayoutGoal,
}

/// What every proving command takes: the key, the SRS, the output, and the provider to bind.
#[derive(clap::Args, Clone)]
struct ProveArgs {
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
    provider: Option<poai_verifier::Provider>,
    /// Compress the proof for on-chain verification with this on-chain proving key (`poai
    /// setup-onchain`); the SRS must reach the on-chain key's k. Verify it with the on-chain verifying key.
    #[arg(long, value_name = "ONCHAIN_PK")]
    onchain: Option<PathBuf>,
}

impl VisArgs {
    fn settings(self) -> VisibilitySettings {
        VisibilitySettings {
            input: self.input_visibility,
            output: self.output_visibility,
            params: self.param_visibility,
        }
    }
}

/// poai — proof of AI inference.
#[derive(Parser)]
#[command(name = "poai", version, about)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a model's ops, shapes, parameter count and unsupported ops.
    Inspect {
        /// ONNX model.
        model: PathBuf,
    },
    /// Calibrate and quantise an ONNX model into a compiled poai model.
    Compile {
        /// ONNX model.
        model: PathBuf,
        /// Calibration inputs (`{"input_data": [[...]]}`, several samples back to back allowed).
        #[arg(long)]
        calibration: PathBuf,
        /// Output path of the compiled model.
        #[arg(short, long)]
        output: PathBuf,
        /// Bit width of activations.
        #[arg(long, default_value_t = 16)]
        activation_bits: u32,
        /// Bit width of weights.
        #[arg(long, default_value_t = 12)]
        weight_bits: u32,
        /// Bit width of non-linear table inputs.
        #[arg(long, default_value_t = 16)]
        table_bits: u32,
        /// Low table-input bits resolved by linear interpolation between table entries: tables shrink
        /// 2^N-fold at the same input resolution (0: plain tables). Default: table bits minus 10, so a
        /// table holds at most 2^10 entries.
        #[arg(long)]
        interp_bits: Option<u32>,
        /// Headroom over the calibrated range.
        #[arg(long, default_value_t = 2.0)]
        margin: f64,
    },
    /// Generate a local development SRS (KZG parameters over BN254). INSECURE: its secret follows from
    /// the public seed, so proofs made with it can be forged. For anything of value, supply an SRS from a
    /// ceremony (e.g. perpetual powers of tau in halo2's raw format) with `--srs`.
    Srs {
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
        /// Visibility the model will be set up with (it changes the circuit's size).
        #[command(flatten)]
        vis: VisArgs,
        /// Dataset binding the model will be set up with.
        #[command(flatten)]
        dataset: DatasetArgs,
        /// Layout the model will be set up with.
        #[command(flatten)]
        layout: LayoutArgs,
    },
    /// Generate the proving and verifying keys of a compiled model.
    Setup {
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
        /// Visibility of inputs and outputs (fixed by the keys).
        #[command(flatten)]
        vis: VisArgs,
        /// Dataset binding (fixed by the keys).
        #[command(flatten)]
        dataset: DatasetArgs,
        /// Layout of the model circuit (fixed by the keys).
        #[command(flatten)]
        layout: LayoutArgs,
    },
    /// Generate the on-chain keys for a model's verifying key: a compression circuit that verifies the
    /// model's proofs and whose Solidity verifier fits a contract (`poai prove --onchain`, `poai
    /// evm-verifier` on the on-chain verifying key).
    SetupOnchain {
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
        #[arg(long, default_value_t = poai_prover::DEFAULT_ONCHAIN_K)]
        k: u32,
        /// Model proofs per on-chain proof: a batch of N inferences shares one on-chain verification
        /// (prove them with N `--input`s; the reward contract's `submitBatch` pays N tasks with it).
        #[arg(long, default_value_t = 1)]
        batch: usize,
    },
    /// Committed datasets.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Print the commitments of an input (what a proof with hashed inputs exposes), so that a proof can be
    /// matched to the input a requester holds.
    CommitInput {
        /// Compiled model (its input formats).
        model: PathBuf,
        /// Input file (`{"input_data": [[...]]}`).
        #[arg(long)]
        input: PathBuf,
    },
    /// Prove quantised inference of a compiled model on an input, or on one row of a committed dataset.
    Prove {
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
    },
    /// Prove inference on rows A..B of a committed dataset and how many of them the model classifies as
    /// labelled: public are only the dataset root, the model, the range and the count.
    ProveAccuracy {
        /// Compiled model.
        model: PathBuf,
        /// Dataset file.
        #[arg(long)]
        dataset: PathBuf,
        /// Rows `A..B` (B - A must be the batch the keys were made for; keys from `setup --dataset --batch`).
        #[arg(long)]
        rows: String,
        #[command(flatten)]
        out: ProveArgs,
    },
    /// Verify a proof file; exits 0 only for a valid proof.
    Verify {
        /// Proof file.
        proof: PathBuf,
        /// Verifying key.
        #[arg(long)]
        vk: PathBuf,
        /// The SHA-256 of the verifying key you trust (as `poai setup` prints it, or `sha256sum`): any
        /// other file is refused, header edits included. Without it, the key file is trusted as given.
        #[arg(long, value_name = "HEX")]
        vk_sha256: Option<String>,
        /// SRS file.
        #[arg(long)]
        srs: PathBuf,
    },
    /// Check a proof against the ONNX model it claims: rebuild the compiled model from the ONNX file
    /// (same settings and calibrated ranges), recompute the verifying key, and verify the proof.
    Audit {
        /// The source ONNX model.
        onnx: PathBuf,
        /// Compiled model (its settings and calibrated ranges are reused).
        #[arg(long)]
        compiled: PathBuf,
        /// Proof file.
        #[arg(long)]
        proof: PathBuf,
        /// Verifying key.
        #[arg(long)]
        vk: PathBuf,
        /// SRS file the key was generated with.
        #[arg(long)]
        srs: PathBuf,
        /// The raw dataset (JSON lines) a dataset-bound proof claims its rows came from: its root is
        /// recomputed and must equal the proof's.
        #[arg(long)]
        dataset: Option<PathBuf>,
    },
    /// Generate the Solidity verifier for a verifying key, compile it with the pinned solc and check
    /// that it can be deployed (EIP-170); writes nothing otherwise.
    EvmVerifier {
        /// Verifying key.
        #[arg(long)]
        vk: PathBuf,
        /// SRS file the key was generated with.
        #[arg(long)]
        srs: PathBuf,
        /// Output Solidity file.
        #[arg(short, long)]
        output: PathBuf,
        /// Also write the contract's ABI (JSON).
        #[arg(long)]
        abi: Option<PathBuf>,
        /// Solidity compiler command (default: `POAI_SOLC`, else `solc` on the PATH; tools/bin/solc
        /// wraps the pinned solc-js).
        #[arg(long)]
        solc: Option<PathBuf>,
        /// Also write the creation bytecode (hex).
        #[arg(long)]
        bytecode: Option<PathBuf>,
        /// Write a verifier over EIP-170's size limit anyway, for a local development chain started
        /// without the limit (`anvil --disable-code-size-limit`). Mainnet cannot deploy it.
        #[arg(long)]
        allow_oversized: bool,
    },
    /// Write the reward contract (registry, escrowed tasks, payment for proven inference) and, compiled
    /// with the pinned solc, its bytecode and ABI.
    RewardsContract {
        /// Output Solidity file.
        #[arg(short, long)]
        output: PathBuf,
        /// Also write the creation bytecode (hex).
        #[arg(long)]
        bytecode: Option<PathBuf>,
        /// Also write the ABI (JSON).
        #[arg(long)]
        abi: Option<PathBuf>,
        /// Solidity compiler command (as for `evm-verifier`).
        #[arg(long)]
        solc: Option<PathBuf>,
    },
    /// Write the call data a transaction to the generated verifier sends for a proof (hex).
    Calldata {
        /// Proof file.
        proof: PathBuf,
        /// Output file (hex, `0x`-prefixed).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Run quantised inference.
    Run {
        /// Compiled model.
        model: PathBuf,
        /// Input file (`{"input_data": [[...]]}`).
        #[arg(long)]
        input: PathBuf,
        /// The source ONNX model: also report the error against its float run.
        #[arg(long)]
        reference: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DatasetCommand {
    /// Quantise JSON-lines rows (`{"input": [...], "label": 3}`) with a compiled model's input format
    /// and commit to them with a Poseidon Merkle tree; the file holds the root and the rows.
    Commit {
        /// JSON-lines dataset.
        data: PathBuf,
        /// Compiled model (its input format).
        #[arg(long)]
        compiled: PathBuf,
        /// Output dataset file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every command does field arithmetic (commitments, keys, proofs); stop with a reason, not SIGILL.
    if let Err(e) = poai_prover::check_cpu() {
        output::error(&e.into());
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Inspect { model } => commands::inspect(&model, cli.json),
        Command::Compile {
            model,
            calibration,
            output,
            activation_bits,
            weight_bits,
            table_bits,
            interp_bits,
            margin,
        } => {
            let interp_bits =
                interp_bits.unwrap_or_else(|| poai_onnx::QuantConfig::default_interp_bits(table_bits));
            let cfg =
                poai_onnx::QuantConfig { activation_bits, weight_bits, table_bits, interp_bits, margin };
            commands::compile(&model, &calibration, &output, &cfg, cli.json)
        }
        Command::Srs { k, model, output, seed, vis, dataset, layout } => commands::srs(
            k,
            model.as_deref(),
            (vis.settings(), dataset.dataset.as_deref(), dataset.batch, layout.layout),
            &output,
            seed,
            cli.json,
        ),
        Command::Setup { model, srs, pk, vk, vis, dataset, layout } => commands::setup(
            &model,
            &srs,
            &pk,
            &vk,
            (vis.settings(), dataset.dataset.as_deref(), dataset.batch, layout.layout),
            cli.json,
        ),
        Command::SetupOnchain { vk, srs, onchain_pk, onchain_vk, k, batch } => {
            commands::setup_onchain(&vk, &srs, (&onchain_pk, &onchain_vk), (k, batch), cli.json)
        }
        Command::Dataset(DatasetCommand::Commit { data, compiled, output }) => {
            commands::dataset_commit(&data, &compiled, &output, cli.json)
        }
        Command::ProveAccuracy { model, dataset, rows, out } => commands::prove_accuracy(
            &model,
            &dataset,
            (&rows, out.provider.unwrap_or_default()),
            (&out.pk, out.onchain.as_deref()),
            &out.srs,
            &out.output,
            cli.json,
        ),
        Command::CommitInput { model, input } => commands::commit_input(&model, &input, cli.json),
        Command::Prove { model, input, dataset, row, out } => {
            let source = match (input, dataset, row) {
                (files, _, _) if !files.is_empty() => commands::ProveInput::Files(files),
                (_, Some(dataset), Some(row)) => commands::ProveInput::Row(dataset, row),
                _ => commands::ProveInput::Missing,
            };
            commands::prove(
                &model,
                &source,
                out.provider.unwrap_or_default(),
                (&out.pk, out.onchain.as_deref()),
                &out.srs,
                &out.output,
                cli.json,
            )
        }
        Command::Verify { proof, vk, vk_sha256, srs } => {
            commands::verify(&proof, &vk, vk_sha256.as_deref(), &srs, cli.json)
        }
        Command::Audit { onnx, compiled, proof, vk, srs, dataset } => commands::audit(
            &commands::AuditPaths {
                onnx: &onnx,
                compiled: &compiled,
                proof: &proof,
                vk: &vk,
                srs: &srs,
                dataset: dataset.as_deref(),
            },
            cli.json,
        ),
        Command::EvmVerifier { vk, srs, output, abi, solc, bytecode, allow_oversized } => {
            commands::evm_verifier(
                &commands::EvmVerifierArgs {
                    vk: &vk,
                    srs: &srs,
                    output: &output,
                    abi: abi.as_deref(),
                    bytecode: bytecode.as_deref(),
                    solc: solc.as_deref(),
                    allow_oversized,
                },
                cli.json,
            )
        }
        Command::RewardsContract { output, bytecode, abi, solc } => commands::rewards_contract(
            &output,
            bytecode.as_deref(),
            abi.as_deref(),
            solc.as_deref(),
            cli.json,
        ),
        Command::Calldata { proof, output } => commands::calldata(&proof, &output, cli.json),
        Command::Run { model, input, reference } => {
            commands::run(&model, &input, reference.as_deref(), cli.json)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e);
            ExitCode::FAILURE
        }
    }
}
