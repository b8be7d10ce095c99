//! Why a sumcheck input was refused or a proof rejected.

use thiserror::Error;

/// A malformed input or a rejected proof, naming the round and the check.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SumcheckError {
    /// An evaluation table whose length is not a power of two.
    #[error("a multilinear polynomial needs 2^n evaluations, got {0}")]
    NotPowerOfTwo(usize),
    /// Polynomials of one sumcheck (or one matrix product) whose sizes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A point with the wrong number of coordinates.
    #[error("a point of {got} coordinates for a polynomial in {vars} variables")]
    PointLength {
        /// Variables of the polynomial.
        vars: usize,
        /// Coordinates given.
        got: usize,
    },
    /// The proof has the wrong number of rounds, or a round polynomial of the wrong degree.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// A round polynomial does not sum to the running claim: `p(0) + p(1) != claim`.
    #[error("round {round}: the round polynomial does not sum to the claim")]
    RoundSum {
        /// The round (0-based).
        round: usize,
    },
    /// A graph the sumcheck backend does not prove yet, naming the node and the remedy.
    #[error("not supported by the sumcheck backend: {0}")]
    Unsupported(String),
    /// The prover's witness does not fit what the graph declares (a value wider than its format), or
    /// disagrees with the quantised graph's evaluation: a bug to report, not a proof to make.
    #[error("witness: {0}")]
    Witness(String),
    /// A proof that does not fit the statement: a wrong public value or a rejected step, naming it.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Proof bytes that are not a proof of this format version, naming the part.
    #[error("proof bytes: {0}")]
    Decode(String),
    /// The final claim is not what the polynomials' evaluations at the random point give.
    #[error("the final evaluation check failed: {0}")]
    FinalEvaluation(String),
}
