//! `poai`: compile ONNX models into quantised circuits, run them, prove and verify their inference, and
//! audit a proof against its ONNX model. A thin layer over the `poai` library crate.

mod commands;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use commands::{check, dataset, evm, keys, model, prove};

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
    Inspect(model::Inspect),
    Compile(model::Compile),
    Srs(keys::Srs),
    Setup(keys::Setup),
    SetupOnchain(keys::SetupOnchain),
    #[command(subcommand)]
    Dataset(dataset::Dataset),
    CommitInput(model::CommitInput),
    Prove(prove::Prove),
    ProveAccuracy(prove::ProveAccuracy),
    Verify(check::Verify),
    Audit(check::Audit),
    EvmVerifier(evm::EvmVerifier),
    RewardsContract(evm::RewardsContract),
    Calldata(evm::Calldata),
    Run(model::Run),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every command does field arithmetic (commitments, keys, proofs); stop with a reason, not SIGILL.
    if let Err(e) = poai::check_cpu() {
        output::error(&e.into());
        return ExitCode::FAILURE;
    }
    let json = cli.json;
    let result = match cli.command {
        Command::Inspect(c) => c.run(json),
        Command::Compile(c) => c.run(json),
        Command::Srs(c) => c.run(json),
        Command::Setup(c) => c.run(json),
        Command::SetupOnchain(c) => c.run(json),
        Command::Dataset(c) => c.run(json),
        Command::CommitInput(c) => c.run(json),
        Command::Prove(c) => c.run(json),
        Command::ProveAccuracy(c) => c.run(json),
        Command::Verify(c) => c.run(json),
        Command::Audit(c) => c.run(json),
        Command::EvmVerifier(c) => c.run(json),
        Command::RewardsContract(c) => c.run(json),
        Command::Calldata(c) => c.run(json),
        Command::Run(c) => c.run(json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e);
            ExitCode::FAILURE
        }
    }
}
