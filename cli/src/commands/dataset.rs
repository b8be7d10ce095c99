//! `dataset commit`: a committed dataset from JSON-lines rows.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use crate::output::{line, write_atomic};

/// Committed datasets.
#[derive(clap::Subcommand)]
pub enum Dataset {
    /// Quantise JSON-lines rows (`{"input": [...], "label": 3}`) with a compiled model's input format
    /// and commit to them with a Poseidon Merkle tree; the file holds the root and the rows.
    Commit(Commit),
}

impl Dataset {
    pub fn run(self, json: bool) -> anyhow::Result<()> {
        match self {
            Dataset::Commit(c) => c.run(json),
        }
    }
}

/// Arguments of `dataset commit`.
#[derive(clap::Args)]
pub struct Commit {
    /// JSON-lines dataset.
    data: PathBuf,
    /// Compiled model (its input format).
    #[arg(long)]
    compiled: PathBuf,
    /// Output dataset file.
    #[arg(short, long)]
    output: PathBuf,
}

impl Commit {
    fn run(self, json: bool) -> anyhow::Result<()> {
        let model = poai::load::compiled_model(&self.compiled)?;
        let t = Instant::now();
        let d = poai::commit_dataset(&self.data, &model)?;
        write_atomic(&self.output, &d.to_json()?)?;
        let labelled = d.data.iter().filter(|r| r.label.is_some()).count();
        if json {
            line(
                &json!({ "output": self.output, "root": d.root, "rows": d.rows, "depth": d.depth, "labelled": labelled })
                    .to_string(),
            );
        } else {
            line(&format!(
                "committed {} rows ({labelled} labelled) of {} to {} in {:.2?}",
                d.rows,
                self.data.display(),
                self.output.display(),
                t.elapsed()
            ));
            line(&format!("  dataset root: {} (depth {})", d.root, d.depth));
        }
        Ok(())
    }
}
