//! Whole-model proofs on the sumcheck backend: one pass from the outputs back over a quantised graph,
//! each node turning claims on its output's multilinear extension into claims on its inputs, with the
//! witness committed once (one packed polynomial, [`Packing`]), every range check in one logup, every
//! claim on the packed polynomial merged into one and one HyperKZG opening.
//!
//! **Statement.** For the public values `bound` (the model's commitment, the compute provider), inputs and
//! outputs: the outputs are what `QGraph::eval` computes from the inputs, with the graph's constants
//! (weights fixed in the model, known to the verifier). Committed weights, hashed visibilities and zero
//! knowledge are not in yet: the transcript reveals evaluations of the witness, so only public inputs
//! and outputs may be proven.
//!
//! **Order of the transcript.** The bound values, the inputs and outputs and the packed commitment are
//! absorbed first; every challenge after them. Each prover message (round polynomials, the evaluations
//! it claims) is absorbed before the next challenge.
//!
//! **Per op** (`plan` decides, `prover` and `verifier` walk it; each argument of uniqueness is next to
//! its step in `prover.rs`):
//! - MatMul with constant right operand, Conv (im2col wiring): matrix-product sumcheck, never a
//!   committed multiply-accumulate; the bias is added on real rows only.
//! - Rescale: `y`, the remainder and the saturation excesses committed; a zerocheck ties each excess to
//!   the end of the range it saturates at; a random-point check ties them to the input.
//! - ReLU: `y` and `n = y - q` committed, `y·n = 0`.
//! - MaxPool: `y` and the gaps `y - x_k` committed (all `≥ 0` by range), `Π_k gap_k = 0`.
//! - Reshape: a claim moves through the layout change (a wiring, or nothing when the layouts agree).
//! - OneHot (token ids to one-hot rows, before the embedding's matmul): the rows committed as bits, one
//!   sumcheck of their row sums and index sums against the ids (`one_hot.rs`).
//! - Softmax with an attention mask: masked slots hold the gap 1, read no input and are left out of the
//!   row sum and the output (`masked_softmax.rs`).

mod layout;
mod masked_softmax;
mod one_hot;
mod packing;
mod plan;
mod prover;
mod verifier;
mod wiring;
mod witness;

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::ir::{QGraph, Tensor};
use poai_circuits::Fr;

pub use layout::Layout;
pub use packing::{Packing, Quantity, Segment, LIMB_CHOICES};
pub use plan::{Plan, Role, Step};
pub use prover::{prove, prove_with_phases, prove_witness, Phases, Witness};
pub use verifier::verify;
pub use witness::{fill_multiplicities, pack};

use crate::claims::MergeProof;
use crate::hyperkzg::{Commitment, OpeningProof};
use crate::logup::LookupProof;
use crate::matmul::MatmulProof;
use crate::mle::signed;
use crate::sumcheck::SumcheckProof;
use crate::transcript::Transcript;

/// Format version of [`ModelProof`].
pub const MODEL_PROOF_VERSION: u32 = 4;

/// What one node's reduction sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepProof {
    /// The merge of several claims on a virtual output.
    pub merge: Option<MergeProof>,
    /// A matrix-product reduction.
    pub matmul: Option<MatmulProof>,
    /// A function table's lookup.
    pub lookup: Option<LookupProof>,
    /// Zerochecks and wiring sumchecks, in the step's order.
    pub sumchecks: Vec<SumcheckProof>,
    /// Evaluations the prover claims, in the step's order.
    pub values: Vec<Fr>,
}

/// A proof that a graph maps public inputs to public outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelProof {
    /// The packed witness.
    pub commitment: Commitment,
    /// One per node, from the last node back.
    pub steps: Vec<StepProof>,
    /// The range checks of every advice entry.
    pub lookup: LookupProof,
    /// All claims on the packed polynomial merged into one.
    pub merge: MergeProof,
    /// The packed polynomial opened there.
    pub opening: OpeningProof,
}

/// Absorbs the public statement: the format version, the values the proof is bound to besides its
/// tensors (the model commitment, the compute provider: whatever the caller's statement names), the
/// inputs, the outputs, then the commitment. Each list is absorbed with its length first, so no two
/// statements absorb the same sequence.
fn absorb_statement(
    transcript: &mut impl Transcript,
    bound: &[Fr],
    (inputs, outputs): (&[Tensor], &[Tensor]),
    commitment: &Commitment,
) {
    transcript.absorb(&[Fr::from(u64::from(MODEL_PROOF_VERSION)), Fr::from(bound.len() as u64)]);
    transcript.absorb(bound);
    for t in inputs.iter().chain(outputs) {
        transcript.absorb(&[Fr::from(t.len() as u64)]);
        let values: Vec<Fr> = t.data().iter().map(|&v| signed(v)).collect();
        transcript.absorb(&values);
    }
    transcript.absorb_g1(&commitment.0);
}

/// `n` fresh challenges.
fn challenges(transcript: &mut impl Transcript, n: usize) -> Vec<Fr> {
    (0..n).map(|_| transcript.challenge()).collect()
}

/// `2^k` in the field.
fn pow2(k: u32) -> Fr {
    (0..k).fold(Fr::ONE, |acc, _| acc.double())
}

/// The weight of limb `l` of `quantity`.
fn limb_weight(quantity: &Quantity, l: usize) -> Fr {
    pow2(quantity.limb_bits * l as u32)
}

/// The value of a quantity at `point` from its chunks' values (limb by limb, chunks in order): each
/// chunk weighted by its subcube's indicator, the bias taken off on real positions.
fn decode(quantity: &Quantity, point: &[Fr], values: &[Fr]) -> Fr {
    let chunk_weights: Vec<Fr> =
        quantity.chunks.iter().map(|&(start, vars)| packing::subcube_at(point, start, vars)).collect();
    let mut sum = Fr::ZERO;
    for (l, limb) in values.chunks(quantity.chunks.len()).enumerate() {
        let v: Fr = limb.iter().zip(&chunk_weights).map(|(e, w)| *e * w).sum();
        sum += limb_weight(quantity, l) * v;
    }
    sum - signed(quantity.bias) * layout::prefix_indicator_at(quantity.len, point)
}

/// The model inputs a graph expects, checked against `inputs`: their number, shapes and formats.
fn check_inputs(graph: &QGraph, inputs: &[Tensor]) -> Result<(), crate::SumcheckError> {
    if inputs.len() != graph.inputs.len() {
        return Err(crate::SumcheckError::Shape(format!(
            "{} inputs for a model of {}",
            inputs.len(),
            graph.inputs.len()
        )));
    }
    for (t, &id) in inputs.iter().zip(&graph.inputs) {
        if t.shape() != graph.values[id].shape.as_slice() {
            return Err(crate::SumcheckError::Shape(format!(
                "input `{}` has shape {:?}, the model expects {:?}",
                graph.values[id].name,
                t.shape(),
                graph.values[id].shape
            )));
        }
        // Every op's uniqueness argument assumes its inputs lie in their formats: a public input outside
        // its format is no input of the model (and could wrap around the field in a reduction).
        let v = &graph.values[id];
        let half = (1..64).contains(&v.format.bits).then(|| 1i64 << (v.format.bits - 1));
        if let Some(x) = half.and_then(|half| t.data().iter().find(|&&x| x < -half || x >= half)) {
            return Err(crate::SumcheckError::Shape(format!(
                "input `{}` holds {x}, outside its {}-bit format",
                v.name, v.format.bits
            )));
        }
    }
    Ok(())
}
