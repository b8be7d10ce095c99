//! Integration tests of poai-prover (one binary for the crate).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "tests fail by panicking"
)]

mod forgery;
mod golden;
mod kzg;
mod readers;
mod srs;
