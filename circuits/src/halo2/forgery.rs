//! Consistent forgeries: wrong witnesses that satisfy a chip's own gate, with the range checks of every
//! cell they change redone, for the soundness tests (MockProver and real proofs) and for auditors who
//! want to replay an attack. A forgery here changes a layout only where a dishonest prover could: witness
//! cells, their range-check limbs and running sums, and the claimed public instances, never a fixed
//! column, selector or copy constraint (those are the verifying key's).
//!
//! The tests that use them show two things per attack: the forged layout is rejected, and it is rejected
//! by the constraint named, because the same forgery with that one constraint detached
//! ([`detach_range_check`], which changes the circuit and so its key) is accepted.

use std::collections::{HashMap, HashSet};

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::{Field, FromUniformBytes};

use super::chips::freivalds::freivalds_matmul;
use super::chips::operands::SharedCells;
use super::chips::range::range_check_offset;
use super::layout::{fe, small_int, Gate, Layout, Pos, MV_INPUTS, MV_OUTPUTS};
use super::{build_layout, CircuitError, ParamVisibility, Visibility, VisibilitySettings};
use crate::commit::model_commitment;
use crate::ir::{FixedFormat, PoolParams, QGraph, QNode, QOp, QValue, Source, Tensor};

/// The rows where `gate`'s selector is on.
pub fn gate_rows(l: &Layout, gate: Gate) -> Vec<usize> {
    l.selectors[gate as usize].iter().enumerate().filter(|(_, &on)| on).map(|(r, _)| r).collect()
}

/// The first range-check row of `cell`'s check (the running sum copy-constrained to it), if it has one.
pub fn range_check_start(l: &Layout, cell: Pos) -> Option<usize> {
    l.copies.iter().find_map(|&(a, b)| match (a, b) {
        (Pos::Rz(first), c) if c == cell => Some(first),
        _ => None,
    })
}

/// The `(bits, offset)` of the range check of `cell` whose first row is `first` (`value + offset` in
/// `[0, 2^bits)`), read back from its fixed coefficients: the one shape the range chip lays out with the
/// same coefficients.
pub fn check_shape(l: &Layout, cell: Pos, first: usize) -> Option<(u32, i64)> {
    for bits in 0..=62u32 {
        let offsets = if bits == 0 { vec![0] } else { vec![0, 1i64 << (bits - 1)] };
        for offset in offsets {
            let mut redo = Layout::new(l.range_bits);
            range_check_offset(&mut redo, cell, 0, offset, bits).ok()?;
            if l.rc_coeffs.get(first..first + redo.rc.len()) == Some(redo.rc_coeffs.as_slice()) {
                return Some((bits, offset));
            }
        }
    }
    None
}

/// Whether `value` passes a range check of `(bits, offset)`.
pub fn fits_check(value: Fr, (bits, offset): (u32, i64)) -> bool {
    small_int(&value).is_some_and(|v| (0..1i128 << bits).contains(&(i128::from(v) + i128::from(offset))))
}

/// Rewrites the limbs and running sums of `cell`'s range check as the range chip would for `value`, so
/// a forged cell keeps a consistent check ([`check_shape`] gives the check's shape). Fails if
/// `cell` has no range check or `value` does not fit it.
pub fn redo_range_check(l: &mut Layout, cell: Pos, value: i64) -> Result<(), CircuitError> {
    let first = range_check_start(l, cell)
        .ok_or_else(|| CircuitError::Layout(format!("{cell:?} has no range check")))?;
    let (bits, offset) = check_shape(l, cell, first).ok_or_else(|| {
        CircuitError::Layout(format!("{cell:?}'s range check has no shape the range chip makes"))
    })?;
    if !fits_check(fe(value), (bits, offset)) {
        return Err(CircuitError::Layout(format!("{value} does not fit {cell:?}'s {bits}-bit check")));
    }
    let mut redo = Layout::new(l.range_bits);
    range_check_offset(&mut redo, cell, value, offset, bits)?;
    let rows = first..first + redo.rc.len();
    l.rc[rows.clone()].copy_from_slice(&redo.rc);
    l.rz[rows].copy_from_slice(&redo.rz);
    Ok(())
}

/// Removes the copy constraint that ties `cell` to its range check (a different circuit: the test's
/// control showing that this check, and nothing else, stops a forgery).
pub fn detach_range_check(l: &mut Layout, cell: Pos) -> Result<(), CircuitError> {
    let first = range_check_start(l, cell)
        .ok_or_else(|| CircuitError::Layout(format!("{cell:?} has no range check")))?;
    l.copies.retain(|&copy| copy != (Pos::Rz(first), cell));
    Ok(())
}

fn integer(l: &Layout, p: Pos) -> Result<i64, CircuitError> {
    small_int(&l.get(p)).ok_or_else(|| CircuitError::Layout(format!("{p:?} holds no small integer")))
}

/// Forges the [`Gate::Div`] row `row` (`y = round(n / d)`, lanes `n, y, r, s`) with the remainder `r2`
/// in `[0, 2d)`: `s` follows, both checks are redone, and the quotient becomes the field element that
/// satisfies `2n + d = 2d·y + r2`, a fraction unless `r2` is the honest remainder. Returns the new `y`.
pub fn forge_division(l: &mut Layout, row: usize, r2: i64) -> Result<Fr, CircuitError> {
    let d = small_int(&l.consts[0][row]).ok_or_else(|| CircuitError::Layout("divisor".into()))?;
    let n = integer(l, Pos::Lane(0, row))?;
    forge_quotient(l, row, (n, d), [Pos::Lane(1, row), Pos::Lane(2, row), Pos::Lane(3, row)], r2)
}

/// Forges the [`Gate::VarDiv`] row `row` (lanes `n, d, y, r, s`) as [`forge_division`] does.
pub fn forge_var_division(l: &mut Layout, row: usize, r2: i64) -> Result<Fr, CircuitError> {
    let n = integer(l, Pos::Lane(0, row))?;
    let d = integer(l, Pos::Lane(1, row))?;
    forge_quotient(l, row, (n, d), [Pos::Lane(2, row), Pos::Lane(3, row), Pos::Lane(4, row)], r2)
}

fn forge_quotient(
    l: &mut Layout,
    row: usize,
    (n, d): (i64, i64),
    [y, r, s]: [Pos; 3],
    r2: i64,
) -> Result<Fr, CircuitError> {
    if !(0..2 * d).contains(&r2) {
        return Err(CircuitError::Layout(format!("row {row}: remainder {r2} outside [0, {})", 2 * d)));
    }
    let s2 = 2 * d - 1 - r2;
    let inverse = Option::<Fr>::from(fe(2 * d).invert())
        .ok_or_else(|| CircuitError::Layout("divisor is zero in the field".into()))?;
    let y2 = (fe(2 * n) + fe(d) - fe(r2)) * inverse;
    l.set(y, y2);
    l.set(r, fe(r2));
    l.set(s, fe(s2));
    redo_range_check(l, r, r2)?;
    redo_range_check(l, s, s2)?;
    Ok(y2)
}

/// Forges the [`Gate::Sqrt`] row `row` (lanes `v, s, a, b, z`) with the root `s2` (any field element):
/// `z = 0`, and `a` and `b` follow from the gate. Their range checks are redone if both are integers that
/// fit them (a half-integer root gives integer `a, b`); otherwise the honest limbs stay. Returns `a`, `b`
/// and whether the checks were redone (a forgery consistent with every check but the root's own).
pub fn forge_root(l: &mut Layout, row: usize, s2: Fr) -> Result<(Fr, Fr, bool), CircuitError> {
    let v = fe(integer(l, Pos::Lane(0, row))?);
    let (one, two, four) = (Fr::ONE, Fr::from(2), Fr::from(4));
    let lo = two * s2 - one;
    let hi = two * s2 + one;
    let a = four * v - lo * lo;
    let b = hi * hi - one - four * v;
    let (pa, pb) = (Pos::Lane(2, row), Pos::Lane(3, row));
    l.set(Pos::Lane(1, row), s2);
    l.set(pa, a);
    l.set(pb, b);
    l.set(Pos::Lane(4, row), Fr::ZERO);
    let mut redone = l.clone();
    let consistent = match (small_int(&a), small_int(&b)) {
        (Some(ai), Some(bi)) => {
            redo_range_check(&mut redone, pa, ai).is_ok() && redo_range_check(&mut redone, pb, bi).is_ok()
        }
        _ => false,
    };
    if consistent {
        *l = redone;
    }
    Ok((a, b, consistent))
}

/// A value of scale 0 (the attack graphs work on plain integers).
fn integer_value(name: &str, shape: &[usize], bits: u32, source: Source) -> QValue {
    QValue { name: name.into(), shape: shape.to_vec(), format: FixedFormat { scale: 0, bits }, source }
}

/// `x[1,1,2,2] -> AvgPool 2x2 -> × 8` (8-bit input): issue #22's first forgery. On `x = [1, 2, 3, 5]` the
/// honest output is `8·round(11/4) = 24`; the division's remainder `r' ≠ 2` ([`forge_division`]) makes
/// the quotient `3 + (2 - r')/8` and the output the integer `26 - r'`.
pub fn avgpool_times_eight() -> Result<QGraph, CircuitError> {
    let pool = PoolParams {
        kernel: [2, 2],
        pads: [0, 0, 0, 0],
        strides: [2, 2],
        dilations: [1, 1],
        ceil_mode: false,
        count_include_pad: false,
    };
    let eight = Tensor::new(vec![1, 1, 1, 1], vec![8])?;
    Ok(QGraph {
        values: vec![
            integer_value("x", &[1, 1, 2, 2], 8, Source::Input { index: 0 }),
            integer_value("avg", &[1, 1, 1, 1], 8, Source::Node { index: 0 }),
            integer_value("eight", &[1, 1, 1, 1], 5, Source::Const { tensor: eight, param: false }),
            integer_value("y", &[1, 1, 1, 1], 12, Source::Node { index: 1 }),
        ],
        nodes: vec![
            QNode { name: "avg".into(), op: QOp::AvgPool(pool), inputs: vec![0], output: 1 },
            QNode { name: "times8".into(), op: QOp::Mul, inputs: vec![1, 2], output: 3 },
        ],
        inputs: vec![0],
        outputs: vec![3],
    })
}

/// `x[1,1] -> Sqrt -> × 2` (8-bit input): issue #22's second forgery. On `x = 1` the honest output is 2;
/// the half-integer root `3/2` ([`forge_root`]) has `a = 0`, `b = 11` and makes the output 3.
pub fn sqrt_times_two() -> Result<QGraph, CircuitError> {
    let two = Tensor::new(vec![1, 1], vec![2])?;
    Ok(QGraph {
        values: vec![
            integer_value("x", &[1, 1], 8, Source::Input { index: 0 }),
            integer_value("s", &[1, 1], 8, Source::Node { index: 0 }),
            integer_value("two", &[1, 1], 3, Source::Const { tensor: two, param: false }),
            integer_value("y", &[1, 1], 10, Source::Node { index: 1 }),
        ],
        nodes: vec![
            QNode { name: "sqrt".into(), op: QOp::Sqrt { shift: 0 }, inputs: vec![0], output: 1 },
            QNode { name: "times2".into(), op: QOp::Mul, inputs: vec![1, 2], output: 3 },
        ],
        inputs: vec![0],
        outputs: vec![3],
    })
}

/// Carries a forged `y` through the layout's one [`Gate::Arith`] row (the multiply by a constant `c` of
/// the attack graphs above) into the public output (instance 1, after the model commitment): returns the
/// claimed output `c·y`.
pub fn claim_times(l: &mut Layout, y: Fr) -> Result<Fr, CircuitError> {
    let [row] = gate_rows(l, Gate::Arith)[..] else {
        return Err(CircuitError::Layout("the attack graphs have one arith row".into()));
    };
    let out = l.consts[0][row] * y;
    l.set(Pos::Lane(0, row), y);
    l.set(Pos::Lane(2, row), out);
    let claimed = l.instance.get_mut(1).ok_or_else(|| CircuitError::Layout("no public output".into()))?;
    *claimed = out;
    Ok(out)
}

/// The honest layout of an attack graph on its one input `x` (of `shape`): input private, outputs public,
/// parameters fixed, so the instances are the model commitment, then the outputs; range table of 8 bits.
pub fn honest_layout(g: &QGraph, shape: &[usize], x: Vec<i64>) -> Result<Layout, CircuitError> {
    let vis = VisibilitySettings {
        input: Visibility::Private,
        output: Visibility::Public,
        params: ParamVisibility::Fixed,
    };
    let trace = g.eval_trace(&[Tensor::new(shape.to_vec(), x)?])?;
    let commitment = model_commitment(g)
        .ok_or_else(|| CircuitError::Layout("a parameter lies outside its format".into()))?;
    build_layout(g, &trace, commitment, vis, 8)
}

/// The copy classes of a layout: the sets of cells its copy constraints make equal (a prover, honest or
/// not, fills each with one value), found once by union-find.
#[derive(Clone, Debug, Default)]
pub struct CopyClasses {
    class: HashMap<Pos, usize>,
    members: Vec<Vec<Pos>>,
}

impl CopyClasses {
    /// The classes of `l`'s copy constraints.
    pub fn of(l: &Layout) -> Self {
        let mut index: HashMap<Pos, usize> = HashMap::new();
        let mut parent: Vec<usize> = Vec::new();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for &(a, b) in &l.copies {
            let [ia, ib] = [a, b].map(|p| {
                *index.entry(p).or_insert_with(|| {
                    parent.push(parent.len());
                    parent.len() - 1
                })
            });
            let (ra, rb) = (root(&mut parent, ia), root(&mut parent, ib));
            parent[ra] = rb;
        }
        let mut by_root: HashMap<usize, usize> = HashMap::new();
        let mut class = HashMap::new();
        let mut members: Vec<Vec<Pos>> = Vec::new();
        for (&p, &i) in &index {
            let c = *by_root.entry(root(&mut parent, i)).or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[c].push(p);
            class.insert(p, c);
        }
        Self { class, members }
    }

    /// The class of `cell`, if a copy constraint touches it.
    pub fn id(&self, cell: Pos) -> Option<usize> {
        self.class.get(&cell).copied()
    }

    /// The cells of class `id`.
    pub fn members(&self, id: usize) -> &[Pos] {
        self.members.get(id).map_or(&[], Vec::as_slice)
    }

    /// Every class, by id.
    pub fn all(&self) -> &[Vec<Pos>] {
        &self.members
    }

    /// Every cell equal to `cell` by copies, itself included.
    pub fn class_of(&self, cell: Pos) -> Vec<Pos> {
        self.id(cell).map_or_else(|| vec![cell], |c| self.members(c).to_vec())
    }
}

/// What [`propagate`] did with a forged cell's consequences.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Propagation {
    /// Cells given new values (copies of the forged cell and every output recomputed from it).
    pub changed: Vec<Pos>,
    /// Cells left alone because their class is bound to a constant of the circuit (a forger cannot move
    /// those: the constraint tying them breaks instead).
    pub blocked: Vec<Pos>,
    /// Changed cells whose range check could not be redone (the new value is no integer that fits it).
    pub unchecked: Vec<Pos>,
}

/// Sets `cell` (and every copy of it) to `value` as a dishonest prover would, then recomputes what
/// follows from it the way the honest chips compute it: every later [`Gate::Arith`] output and mat-vec
/// accumulator ([`Gate::MvFirst`], [`Gate::Mv`]) whose inputs changed, their copies, their range checks
/// (redone) and the public instances they feed. The forged cell's own gate is not recomputed: it is the
/// one constraint the forgery has to get past.
pub fn propagate(l: &mut Layout, cell: Pos, value: Fr) -> Result<Propagation, CircuitError> {
    let classes = CopyClasses::of(l);
    let pinned: HashSet<Pos> = classes.class_of(cell).into_iter().collect();
    let mut done = Propagation::default();
    assign_class(l, &classes, cell, value, &mut done)?;
    let first = pinned.iter().filter_map(|p| if let Pos::Lane(_, r) = p { Some(*r) } else { None }).min();
    for row in first.unwrap_or(usize::MAX)..l.main_rows() {
        let on = |g: Gate| l.selectors[g as usize][row];
        let mut outputs: Vec<(Pos, Fr)> = Vec::new();
        if on(Gate::Arith) {
            let [a, b] = [0, 1].map(|lane| l.lanes[lane][row]);
            let c = |i: usize| l.consts[i][row];
            outputs.push((Pos::Lane(2, row), c(0) * a + c(1) * b + c(2) * a * b + c(3)));
        }
        if on(Gate::MvFirst) || on(Gate::Mv) {
            for j in 0..MV_OUTPUTS {
                let start = if on(Gate::MvFirst) {
                    l.consts[j][row]
                } else {
                    l.lanes[MV_INPUTS + j][row.saturating_sub(1)]
                };
                let sum = (0..MV_INPUTS)
                    .fold(start, |e, t| e + l.weights[t * MV_OUTPUTS + j][row] * l.lanes[t][row]);
                outputs.push((Pos::Lane(MV_INPUTS + j, row), sum));
            }
        }
        for (out, v) in outputs {
            if !pinned.contains(&out) && l.get(out) != v {
                assign_class(l, &classes, out, v, &mut done)?;
            }
        }
    }
    Ok(done)
}

/// Gives `cell`'s copy class the value `v` (unless a constant binds it), with its range checks redone
/// and its public instances updated.
fn assign_class(
    l: &mut Layout,
    classes: &CopyClasses,
    cell: Pos,
    v: Fr,
    done: &mut Propagation,
) -> Result<(), CircuitError> {
    let class = classes.class_of(cell);
    if class.iter().any(|p| l.constants.iter().any(|(q, c)| q == p && *c != v)) {
        done.blocked.push(cell);
        return Ok(());
    }
    for &p in &class {
        l.set(p, v);
        if let Some(&(_, i)) = l.instance_cells.iter().find(|(q, _)| *q == p) {
            let claimed = l.instance.get_mut(i).ok_or_else(|| CircuitError::Layout("instance".into()))?;
            *claimed = v;
        }
    }
    for &p in &class {
        if range_check_start(l, p).is_some() {
            match small_int(&v) {
                Some(int) if redo_range_check(l, p, int).is_ok() => {}
                _ => done.unchecked.push(p),
            }
        }
    }
    done.changed.extend(class);
    Ok(())
}

/// The challenges halo2's `MockProver` draws, in order (a fixed BLAKE2b chain from a public seed, so
/// tests are reproducible): public, so a forger can fit a witness to them. A real prover draws its
/// challenges from the transcript after the first phase is committed, which is what Freivalds' check
/// rests on.
pub fn mock_prover_challenges(count: usize) -> Vec<Fr> {
    let mut state: [u8; 64] = *blake2b_simd::blake2b(b"Halo2-MockProver").as_array();
    (0..count)
        .map(|_| {
            state = *blake2b_simd::blake2b(&state).as_array();
            Fr::from_uniform_bytes(&state)
        })
        .collect()
}

/// The cells and values of a product's entries, `y[p][n]`.
pub type Products = Vec<Vec<(Pos, i64)>>;

/// A product `Y = X·W` of `p` vectors of `k` against a `k × n` matrix, all free witness cells (small
/// deterministic values), checked by Freivalds ([`freivalds_matmul`]); returns the layout and the
/// products' cells `y[p][n]`.
pub fn freivalds_product(p: usize, k: usize, n: usize) -> Result<(Layout, Products), CircuitError> {
    let mut l = Layout::new(8);
    let mut cell = |v: i64| (l.push_witness(fe(v)), v);
    let xs: Vec<Vec<(Pos, i64)>> =
        (0..p).map(|i| (0..k).map(|t| cell((i * 37 + t * 11) as i64 % 255 - 127)).collect()).collect();
    let w: Vec<(Pos, i64)> = (0..k * n).map(|t| cell((t * 29) as i64 % 61 - 30)).collect();
    let ys = freivalds_matmul(&mut l, &xs, &w, n, None, &mut SharedCells::default())?;
    Ok((l, ys))
}

/// Forges two products of one output column of a Freivalds check so that its combination in the
/// challenge `s` keeps its value: `y[0][0] + 1` and `y[1][0] - s` (their weights in the combination are
/// `s^(P-1)` and `s^(P-2)`). Every gate holds at that `s`, so a prover who knew `s` before committing
/// `Y` would pass with a wrong product; one who does not fails but with probability `(N + P) / |F|`.
pub fn forge_freivalds(l: &mut Layout, ys: &Products, s: Fr) -> Result<(), CircuitError> {
    let first = |p: usize| ys.get(p).and_then(|y| y.first()).map(|c| c.0);
    let (Some(a), Some(b)) = (first(0), first(1)) else {
        return Err(CircuitError::Layout("a Freivalds forgery needs two positions".into()));
    };
    let (va, vb) = (l.get(a), l.get(b));
    l.set(a, va + Fr::ONE);
    l.set(b, vb - s);
    Ok(())
}

/// Forges the [`Gate::Swap`] row `row` (lanes `b, cur, sib, left, right`) to carry the node `fake` into
/// the honest `left, right` (so every hash above it, and the root, stay honest): `sib = left + right -
/// fake` (the sibling is a free witness) and `b = (left - fake) / (sib - fake)`, which solves both linear
/// constraints of the gate. `b` is then neither 0 nor 1, so only the gate's `b·(1 - b) = 0` stops a
/// prover from placing any leaf under any root it knows one real node pair of. Returns `b`.
pub fn forge_swap(l: &mut Layout, row: usize, fake: Fr) -> Result<Fr, CircuitError> {
    let (left, right) = (l.get(Pos::Lane(3, row)), l.get(Pos::Lane(4, row)));
    let sib = left + right - fake;
    let b = Option::<Fr>::from((sib - fake).invert())
        .map(|inv| (left - fake) * inv)
        .ok_or_else(|| CircuitError::Layout("the fake node equals the pair's mean".into()))?;
    let mut done = Propagation::default();
    assign_class(l, &CopyClasses::of(l), Pos::Lane(1, row), fake, &mut done)?;
    if !done.blocked.is_empty() {
        return Err(CircuitError::Layout("the node is a constant of the circuit".into()));
    }
    l.set(Pos::Lane(0, row), b);
    l.set(Pos::Lane(2, row), sib);
    Ok(b)
}
