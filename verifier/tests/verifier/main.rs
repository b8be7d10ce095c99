//! Integration tests of poai-verifier (one binary for the crate): they use this crate alone.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, reason = "tests fail by panicking")]

mod golden;
