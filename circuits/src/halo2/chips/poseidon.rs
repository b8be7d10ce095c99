//! Packing and Poseidon hashing: the in-circuit side of `circuits::commit` (same packing, same sponge,
//! same constants), so a digest computed here equals [`crate::commit::tensor_commitment`] and
//! [`crate::commit::poseidon_hash`].
//!
//! Cell layouts (main region):
//! - pack row: lanes 0..=7 hold up to eight values (copies), lane 8 the running element; the next row's
//!   lane 8 is `c0·acc + Σ_i w_i·v_i + c1` with `w_i = 2^(bits·j)` for the value's place `j` in its
//!   element, `c1` the sum of the offsets `2^(bits-1)·w_i`, and `c0 = 0` on an element's first row. An
//!   element's rows never hold values of another element. Values must already be range-checked to
//!   `bits` (packing is injective only then); inputs and outputs always are.
//! - absorb row: lanes 0..=4 the state (the last permutation's output), lanes 5..=8 up to four inputs
//!   (copies); the next row holds `f·s + m·x + c` where `f = 0` for the first absorption (the state then
//!   comes from `c` alone: the initial capacity), `m_j = 0` masks unused or constant inputs and `c`
//!   carries constants, the domain tag and the padding `1`.
//! - a permutation: 8 full rounds of two rows and 60 partial rounds two to a row (S-box by a witnessed
//!   square, and the first round's S-box output witnessed, so every gate has degree 4), 46 rows; its
//!   output is the next absorb row's state.
//!
//! Uniqueness: a packed element is a polynomial in its values (copies, or range-checked pack rows), and
//! packing is injective because each value is range-checked to `bits` before packing (offset into
//! `[0, 2^bits)`) and an element holds at most `PACK_BITS / bits` of them, so the sum stays below
//! `2^PACK_BITS < p` and its base-`2^bits` digits are the values. Every witnessed square and S-box output
//! is constrained to equal its polynomial, and each absorb and round output is a polynomial of the row
//! above: given the inputs, every state cell is determined.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;

use halo2_base::halo2_proofs::plonk::{Expression, VirtualCells};
use halo2_base::halo2_proofs::poly::Rotation;

use super::super::layout::{fe, Gate, Layout, Pos, PACK_WIDTH};
use super::gate::GateColumns;
use crate::commit::poseidon::{initial_capacity, is_full_round, mds, round_constants, POSEIDON_T};
use crate::commit::{PACK_BITS, POSEIDON_RATE};
use crate::halo2::CircuitError;

/// One sponge input: a cell, or a constant of the circuit (a domain tag).
#[derive(Clone, Copy, Debug)]
pub enum HashInput {
    /// A cell and its value.
    Cell(Pos, Fr),
    /// A constant.
    Const(Fr),
}

impl HashInput {
    fn value(self) -> Fr {
        match self {
            Self::Cell(_, v) | Self::Const(v) => v,
        }
    }
}

/// Packs `bits`-wide signed values held in `cells` (already range-checked) into field elements exactly as
/// [`crate::commit::pack_values`]; the pack rows hold copies. Returns the element cells.
pub fn pack(l: &mut Layout, cells: &[(Pos, i64)], bits: u32) -> Result<Vec<(Pos, Fr)>, CircuitError> {
    let values: Vec<i64> = cells.iter().map(|c| c.1).collect();
    Ok(pack_rows(l, &values, Some(cells), bits)?.1)
}

/// Places `values` eight to a row as the pack rows themselves (no copies) and packs them: the cheapest
/// layout for a hashed model input. Returns the value cells (to be range-checked by the caller) and the
/// element cells.
pub fn place_and_pack(l: &mut Layout, values: &[i64], bits: u32) -> Result<PackedCells, CircuitError> {
    pack_rows(l, values, None, bits)
}

/// Value cells and packed element cells.
pub type PackedCells = (Vec<(Pos, i64)>, Vec<(Pos, Fr)>);

fn pack_rows(
    l: &mut Layout,
    values: &[i64],
    copy_of: Option<&[(Pos, i64)]>,
    bits: u32,
) -> Result<PackedCells, CircuitError> {
    if bits == 0 || bits > 62 {
        return Err(CircuitError::Layout(format!("cannot pack {bits}-bit values")));
    }
    let per = (PACK_BITS / bits) as usize;
    let offset = Fr::from(1u64 << (bits - 1));
    let radix = Fr::from(1u64 << bits);
    let mut value_cells = Vec::with_capacity(values.len());
    let mut elements = Vec::with_capacity(values.len().div_ceil(per));
    let mut acc = Fr::ZERO;
    for (e, element) in values.chunks(per).enumerate() {
        let mut place = Fr::ONE;
        let mut last_row = 0;
        for (i, row_values) in element.chunks(8).enumerate() {
            let row = l.push_row();
            last_row = row;
            l.selectors[Gate::Pack as usize][row] = true;
            // Lane 8 holds the running element (on an element's first row: the previous element,
            // which c0 = 0 ignores).
            l.lanes[PACK_ACC][row] = acc;
            let first = i == 0;
            l.consts[0][row] = if first { Fr::ZERO } else { Fr::ONE };
            let mut next = if first { Fr::ZERO } else { acc };
            let mut c1 = Fr::ZERO;
            for (lane, &v) in row_values.iter().enumerate() {
                l.lanes[lane][row] = fe(v);
                l.weights[lane][row] = place;
                let at = Pos::Lane(lane, row);
                match copy_of {
                    Some(src) => l.copies.push((at, src[e * per + i * 8 + lane].0)),
                    None => value_cells.push((at, v)),
                }
                c1 += offset * place;
                next += place * (fe(v) + offset);
                place *= radix;
            }
            l.consts[1][row] = c1;
            acc = next;
        }
        // The element lands in lane 8 of the row after its last pack row.
        elements.push((Pos::Lane(8, last_row + 1), acc));
    }
    let end = l.push_row();
    l.lanes[PACK_ACC][end] = acc;
    Ok((value_cells, elements))
}

/// Hashes `inputs` with the sponge of [`crate::commit::poseidon_hash`]; returns the digest cell.
pub fn hash(l: &mut Layout, inputs: &[HashInput]) -> Result<(Pos, Fr), CircuitError> {
    let mut state = [Fr::ZERO; POSEIDON_T];
    let mut chunks: Vec<&[HashInput]> = inputs.chunks(POSEIDON_RATE).collect();
    if inputs.len().is_multiple_of(POSEIDON_RATE) {
        chunks.push(&[]);
    }
    for (n, chunk) in chunks.iter().enumerate() {
        let row = l.push_row();
        l.selectors[Gate::Absorb as usize][row] = true;
        let first = n == 0;
        l.weights[0][row] = if first { Fr::ZERO } else { Fr::ONE };
        let mut next = if first { [Fr::ZERO; POSEIDON_T] } else { state };
        for (j, s) in state.iter().enumerate() {
            l.lanes[j][row] = *s;
        }
        let add_const = |j: usize, c: Fr, l: &mut Layout| {
            l.consts[j][row] += c;
        };
        if first {
            add_const(0, initial_capacity(), l);
            next[0] += initial_capacity();
        }
        for (i, input) in chunk.iter().enumerate() {
            match *input {
                HashInput::Cell(pos, v) => {
                    l.lanes[5 + i][row] = v;
                    l.weights[1 + i][row] = Fr::ONE;
                    l.copies.push((Pos::Lane(5 + i, row), pos));
                }
                HashInput::Const(c) => add_const(1 + i, c, l),
            }
            next[1 + i] += input.value();
        }
        if chunk.len() < POSEIDON_RATE {
            add_const(chunk.len() + 1, Fr::ONE, l);
            next[chunk.len() + 1] += Fr::ONE;
        }
        state = next;
        permutation(l, &mut state);
    }
    // The output state sits on the row after the last round.
    let row = l.push_row();
    for (j, s) in state.iter().enumerate() {
        l.lanes[j][row] = *s;
    }
    Ok((Pos::Lane(1, row), state[1]))
}

// Partial rounds are laid out two to a row.
const _: () = assert!(crate::commit::POSEIDON_R_P.is_multiple_of(2));

/// Lays out one permutation of `state` (which the row about to be pushed holds) and updates it.
fn permutation(l: &mut Layout, state: &mut [Fr; POSEIDON_T]) {
    let m = mds();
    let mix = |v: &[Fr]| -> [Fr; POSEIDON_T] {
        std::array::from_fn(|i| m[i].iter().zip(v).map(|(a, b)| *a * b).sum())
    };
    let rcs = round_constants();
    let mut r = 0;
    while r < rcs.len() {
        let row = l.push_row();
        for (j, (s, c)) in state.iter().zip(&rcs[r]).enumerate() {
            l.lanes[j][row] = *s;
            l.consts[j][row] = *c;
        }
        let added: Vec<Fr> = state.iter().zip(&rcs[r]).map(|(s, c)| *s + c).collect();
        if is_full_round(r) {
            l.selectors[Gate::PoseidonFull as usize][row] = true;
            let squares: Vec<Fr> = added.iter().map(Field::square).collect();
            for (j, w) in squares.iter().take(4).enumerate() {
                l.lanes[5 + j][row] = *w;
            }
            let extra = l.push_row();
            l.lanes[0][extra] = squares[4];
            let sboxed: Vec<Fr> = added.iter().zip(&squares).map(|(a, w)| w.square() * a).collect();
            *state = mix(&sboxed);
            r += 1;
            continue;
        }
        // Partial rounds come in pairs (R_P is even): both in this row.
        l.selectors[Gate::PoseidonPartial as usize][row] = true;
        let mut a = added;
        let w1 = a[0].square();
        a[0] = w1.square() * a[0];
        l.lanes[5][row] = w1;
        l.lanes[6][row] = a[0];
        let mut b = mix(&a);
        for (j, (v, c)) in b.iter_mut().zip(&rcs[r + 1]).enumerate() {
            *v += c;
            l.weights[j][row] = *c;
        }
        let w2 = b[0].square();
        l.lanes[7][row] = w2;
        b[0] = w2.square() * b[0];
        *state = mix(&b);
        r += 2;
    }
}

/// The packing accumulator's lane (the packed values sit in lanes `0..PACK_WIDTH`).
const PACK_ACC: usize = 8;

/// [`Gate::Pack`]: `acc(next) = c0·acc + c1 + Σ_i place_i·v_i` (places in the weight columns).
pub(crate) fn pack_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let acc = c.lane_at(m, PACK_ACC, Rotation::cur());
    let next = c.lane_at(m, PACK_ACC, Rotation::next());
    let [c0, c1] = c.consts(m, [0, 1]);
    let packed =
        (0..PACK_WIDTH).fold(c0 * acc + c1, |e, i| e + c.weight(m, i) * c.lane_at(m, i, Rotation::cur()));
    vec![q * (next - packed)]
}

/// [`Gate::Absorb`]: `s_j(next) = keep·s_j + c_j (+ w_j·input_j for j > 0)`, the state in lanes
/// `0..POSEIDON_T` and the absorbed inputs in lanes `5..`.
pub(crate) fn absorb_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let keep = c.weight(m, 0);
    (0..POSEIDON_T)
        .map(|j| {
            let s = c.lane_at(m, j, Rotation::cur());
            let next = c.lane_at(m, j, Rotation::next());
            let [cj] = c.consts(m, [j]);
            let mut v = keep.clone() * s + cj;
            if j > 0 {
                v = v + c.weight(m, j) * c.lane_at(m, 4 + j, Rotation::cur());
            }
            q.clone() * (next - v)
        })
        .collect()
}

/// Row `i` of the MDS matrix applied to `state`.
fn mix(mds: &[[Fr; POSEIDON_T]; POSEIDON_T], i: usize, state: &[Expression<Fr>]) -> Expression<Fr> {
    state
        .iter()
        .zip(&mds[i])
        .fold(Expression::Constant(Fr::ZERO), |e, (x, m)| e + x.clone() * Expression::Constant(*m))
}

/// [`Gate::PoseidonFull`]: one full round. The state plus round constants is S-boxed through witnessed
/// squares (lanes `5..9` and the next row's lane 0) and mixed into the state two rows down.
pub(crate) fn full_round_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let mds = mds();
    let added: Vec<Expression<Fr>> = (0..POSEIDON_T)
        .map(|j| {
            let [cj] = c.consts(m, [j]);
            c.lane_at(m, j, Rotation::cur()) + cj
        })
        .collect();
    let squares: Vec<Expression<Fr>> = (0..POSEIDON_T)
        .map(|j| if j < 4 { c.lane_at(m, 5 + j, Rotation::cur()) } else { c.lane_at(m, 0, Rotation::next()) })
        .collect();
    let sboxed: Vec<Expression<Fr>> =
        squares.iter().zip(&added).map(|(w, a)| w.clone() * w.clone() * a.clone()).collect();
    let mut cs: Vec<Expression<Fr>> =
        squares.iter().zip(&added).map(|(w, a)| q.clone() * (w.clone() - a.clone() * a.clone())).collect();
    for i in 0..POSEIDON_T {
        let next = c.lane_at(m, i, Rotation(2));
        cs.push(q.clone() * (next - mix(mds, i, &sboxed)));
    }
    cs
}

/// [`Gate::PoseidonPartial`]: two partial rounds per row. First `a = s + c` with the S-box on `a_0` by the
/// witnessed square `w1` (lane 5) and output `o1` (lane 6); then `b = M·a + c'` (`c'` in the weight
/// columns) with its S-box inline through the witnessed square `w2` (lane 7); the next row is `M·b`.
pub(crate) fn partial_rounds_gate(
    c: &GateColumns,
    m: &mut VirtualCells<'_, Fr>,
    q: Expression<Fr>,
) -> Vec<Expression<Fr>> {
    let mds = mds();
    let mut a: Vec<Expression<Fr>> = (0..POSEIDON_T)
        .map(|j| {
            let [cj] = c.consts(m, [j]);
            c.lane_at(m, j, Rotation::cur()) + cj
        })
        .collect();
    let [w1, o1, w2] = c.lanes(m, [5, 6, 7]);
    let mut cs = vec![
        q.clone() * (w1.clone() - a[0].clone() * a[0].clone()),
        q.clone() * (o1.clone() - w1.clone() * w1 * a[0].clone()),
    ];
    a[0] = o1;
    let mut b: Vec<Expression<Fr>> = (0..POSEIDON_T).map(|i| mix(mds, i, &a) + c.weight(m, i)).collect();
    cs.push(q.clone() * (w2.clone() - b[0].clone() * b[0].clone()));
    b[0] = w2.clone() * w2 * b[0].clone();
    for i in 0..POSEIDON_T {
        let next = c.lane_at(m, i, Rotation::next());
        cs.push(q.clone() * (next - mix(mds, i, &b)));
    }
    cs
}
