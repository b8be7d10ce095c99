//! Human and JSON output, atomic file writes.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Prints to stdout.
pub fn line(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
}

/// Prints an error chain to stderr.
pub fn error(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {cause}");
    }
}

/// Prints a progress note to stderr (kept off stdout so `--json` output stays clean).
pub fn note(s: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{s}");
}

/// Writes a file atomically (temporary file, sync, rename); nothing partial is ever left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    poai_prover::write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
