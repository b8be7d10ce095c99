//! Integration tests of poai-circuits (one binary for the crate, to keep link times down).

mod commit;
mod ir_eval;
