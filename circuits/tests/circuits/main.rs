//! Integration tests of poai-circuits (one binary for the crate, to keep link times down).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "tests fail by panicking"
)]

mod commit;
mod dataset;
mod forgery;
mod freivalds;
mod halo2_chips;
mod hashing;
mod ir_eval;
mod params;
mod witness_search;
