//! Human and JSON output, progress spinners, atomic file writes.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

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

/// Warns on stderr that an SRS is a development setup whose proofs can be forged.
pub fn warn_insecure_srs(insecure: bool, what: &str) {
    if insecure {
        note(&format!("WARNING: this SRS is an INSECURE development setup; proofs {what} it can be forged."));
    }
}

/// Writes a file atomically (temporary file, sync, rename); nothing partial is ever left behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    poai::load::write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Bytes as a `0x`-prefixed hex file.
pub fn hex_file(bytes: &[u8]) -> Vec<u8> {
    format!("0x{}\n", poai::hex::encode(bytes)).into_bytes()
}

/// A spinner on stderr with `msg` and the elapsed time; hidden with `--json`.
pub fn spinner(msg: &str, json: bool) -> ProgressBar {
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

/// Runs `work` under a spinner showing `msg`, cleared when it ends.
pub fn with_spinner<T>(msg: &str, json: bool, work: impl FnOnce() -> T) -> T {
    let pb = spinner(msg, json);
    let out = work();
    pb.finish_and_clear();
    out
}
