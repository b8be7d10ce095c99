//! Consistent forgeries (issue #22): wrong witnesses that satisfy the chip's own gate, with the range
//! checks of every changed cell redone and the public output claimed accordingly. Each test shows the
//! forgery is rejected, and by which constraint: detaching that one constraint lets the same forgery
//! verify, which is what the circuit accepted before the constraint existed.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::halo2::forgery::{
    avgpool_times_eight, claim_times, detach_range_check, forge_division, forge_freivalds, forge_root,
    forge_swap, forge_var_division, freivalds_product, gate_rows, mock_prover_challenges, propagate,
    redo_range_check, sqrt_times_two,
};
use poai_circuits::halo2::layout::{fe, Gate};
use poai_circuits::halo2::{Layout, Pos};
use poai_circuits::ir::{FixedFormat, QGraph, QNode, QOp, QValue, Source};

use super::halo2_chips::verify;

/// [`poai_circuits::halo2::forgery::honest_layout`], checked by the MockProver.
fn honest_layout(g: &QGraph, shape: &[usize], x: Vec<i64>) -> Layout {
    let l = poai_circuits::halo2::forgery::honest_layout(g, shape, x).unwrap();
    verify(l.clone()).unwrap();
    l
}

/// The AvgPool forgery of issue #22 with each of the 7 other remainders: `x = [1, 2, 3, 5]`, honest
/// `y = round(11/4) = 3` (`r = 2`), output 24. A remainder `r'` gives `y' = 3 + (2 - r')/8` and the integer
/// output `26 - r'`. Only the quotient's range check stops it.
#[test]
fn avgpool_fractional_quotients_are_stopped_by_the_quotient_check() {
    let g = avgpool_times_eight().unwrap();
    let honest = honest_layout(&g, &[1, 1, 2, 2], vec![1, 2, 3, 5]);
    assert_eq!(honest.instance[1], fe(24));
    let [row] = gate_rows(&honest, Gate::Div)[..] else { panic!("one division row expected") };
    assert_eq!(honest.get(Pos::Lane(2, row)), fe(2), "honest remainder");
    for r2 in (0..8).filter(|&r| r != 2) {
        let mut l = honest.clone();
        let y2 = forge_division(&mut l, row, r2).unwrap();
        assert_ne!(y2 * fe(8), fe(8 * 3), "r' = {r2}: the forged quotient should differ");
        assert_eq!(
            claim_times(&mut l, y2).unwrap(),
            fe(26 - r2),
            "r' = {r2}: the forged output is an integer"
        );
        // Rejected where the quotient meets its check: the running sum copy-constrained to it.
        let err = verify(l.clone()).expect_err("a fractional quotient was accepted");
        assert!(err.contains("Equality constraint"), "{err}");
        detach_range_check(&mut l, Pos::Lane(1, row)).unwrap();
        verify(l).unwrap_or_else(|e| panic!("r' = {r2}: the forgery fails elsewhere too: {e}"));
    }
}

/// The square-root forgery of issue #22: `v = 1`, honest root 1 (output 2); the half-integer `3/2` has
/// `a = 0`, `b = 11`, both in range, and gives the output 3. More `v`: every half-integer root whose `a`
/// and `b` pass their checks is stopped by the root's own check alone.
#[test]
fn half_integer_roots_are_stopped_by_the_root_check() {
    let g = sqrt_times_two().unwrap();
    let half = Fr::from(2).invert().unwrap();
    let mut forged = 0;
    for v in [1i64, 2, 3, 5, 6, 12, 30, 56, 100, 127] {
        let honest = honest_layout(&g, &[1, 1], vec![v]);
        let [row] = gate_rows(&honest, Gate::Sqrt)[..] else { panic!("one root row expected") };
        let j = (v as f64).sqrt() as i64;
        for s2 in [fe(j) + half, fe(j) - half, fe(j + 1) + half] {
            let mut l = honest.clone();
            let (a, b, consistent) = forge_root(&mut l, row, s2).unwrap();
            if !consistent {
                continue;
            }
            assert_eq!(a + b, fe(8) * s2 - Fr::ONE, "v = {v}: a + b = 8s - 1");
            forged += 1;
            let out = claim_times(&mut l, s2).unwrap();
            assert_ne!(out, honest.instance[1], "v = {v}: the forged root should change the output");
            assert!(verify(l.clone()).is_err(), "v = {v}: a half-integer root was accepted");
            detach_range_check(&mut l, Pos::Lane(1, row)).unwrap();
            verify(l).unwrap_or_else(|e| panic!("v = {v}: the forgery fails elsewhere too: {e}"));
        }
    }
    // v = 1 with 3/2 is the case; 2, 6, 12, 30, 56 (j² + j) and others admit one too.
    assert!(forged >= 5, "only {forged} half-integer roots passed the gate");
}

/// A small exp table (8-bit inputs at scale 4, 8-bit outputs at scale 6) for the softmax forgeries.
fn small_exp() -> poai_circuits::ir::TableSpec {
    use poai_circuits::ir::{NonLinear, TableSpec};
    TableSpec { func: NonLinear::Exp, in_scale: 4, in_bits: 8, out_scale: 6, out_bits: 8, interp_bits: 0 }
}

/// `x[1,4] -> Softmax`, outputs public: every division by the witnessed sum, forged with every other
/// remainder, is stopped by the quotient's check alone (the forged fractions are claimed as outputs).
#[test]
fn softmax_fractional_quotients_are_stopped_by_the_quotient_check() {
    let exp = small_exp();
    let g = QGraph {
        values: vec![
            QValue {
                name: "x".into(),
                shape: vec![1, 4],
                format: FixedFormat { scale: 4, bits: 8 },
                source: Source::Input { index: 0 },
            },
            QValue {
                name: "p".into(),
                shape: vec![1, 4],
                format: FixedFormat { scale: 6, bits: 8 },
                source: Source::Node { index: 0 },
            },
        ],
        nodes: vec![QNode {
            name: "sm".into(),
            op: QOp::Softmax { axis: 1, exp, out_scale: 6 },
            inputs: vec![0],
            output: 1,
        }],
        inputs: vec![0],
        outputs: vec![1],
    };
    let honest = honest_layout(&g, &[1, 4], vec![-20, 3, 0, 17]);
    let rows = gate_rows(&honest, Gate::VarDiv);
    assert_eq!(rows.len(), 4);
    let mut forged = 0;
    for (i, &row) in rows.iter().enumerate() {
        let d = honest.get(Pos::Lane(1, row));
        let r = honest.get(Pos::Lane(3, row));
        for r2 in 0..8 {
            if fe(r2) == r {
                continue;
            }
            let mut l = honest.clone();
            let y2 = forge_var_division(&mut l, row, r2).unwrap();
            l.instance[1 + i] = y2;
            forged += 1;
            assert!(verify(l.clone()).is_err(), "output {i} (d = {d:?}): a fractional quotient was accepted");
            detach_range_check(&mut l, Pos::Lane(2, row)).unwrap();
            verify(l).unwrap_or_else(|e| panic!("output {i}: the forgery fails elsewhere too: {e}"));
        }
    }
    assert!(forged >= 4 * 7);
}

/// Integer forgeries of the quotient (`y ± 1` with the remainder moved by `∓2d`) keep the gate and the
/// quotient's range, so they must be stopped by the remainder's checks: with `r` and `s = 2d - 1 - r`
/// redone, one of them is negative.
#[test]
fn integer_quotient_forgeries_are_stopped_by_the_remainder_checks() {
    let g = avgpool_times_eight().unwrap();
    let honest = honest_layout(&g, &[1, 1, 2, 2], vec![1, 2, 3, 5]);
    let [row] = gate_rows(&honest, Gate::Div)[..] else { panic!("one division row expected") };
    for dy in [1i64, -1] {
        let mut l = honest.clone();
        let (y2, r2) = (3 + dy, 2 - 8 * dy);
        let s2 = 7 - r2;
        l.set(Pos::Lane(1, row), fe(y2));
        l.set(Pos::Lane(2, row), fe(r2));
        l.set(Pos::Lane(3, row), fe(s2));
        redo_range_check(&mut l, Pos::Lane(1, row), y2).unwrap();
        // One of r', s' is negative: its check cannot be redone, so the honest limbs stay and fail.
        assert!(redo_range_check(&mut l, Pos::Lane(2, row), r2).is_err() || r2 >= 0);
        assert!(redo_range_check(&mut l, Pos::Lane(3, row), s2).is_err() || s2 >= 0);
        claim_times(&mut l, fe(y2)).unwrap();
        assert!(verify(l).is_err(), "y' = {y2} was accepted");
    }
}

/// One-op graph `x[1, n] -> op` over 8-bit integers, output public.
pub fn one_op(op: QOp, in_shape: &[usize], out_shape: &[usize]) -> QGraph {
    let v = |name: &str, shape: &[usize], source: Source| QValue {
        name: name.into(),
        shape: shape.to_vec(),
        format: FixedFormat { scale: 0, bits: 8 },
        source,
    };
    QGraph {
        values: vec![
            v("x", in_shape, Source::Input { index: 0 }),
            v("y", out_shape, Source::Node { index: 0 }),
        ],
        nodes: vec![QNode { name: "op".into(), op, inputs: vec![0], output: 1 }],
        inputs: vec![0],
        outputs: vec![1],
    }
}

/// ReLU: claiming `y = x` for a negative `x` (`u = 0`) or `y = 0` for a positive one (`u = -x`) satisfies
/// `y·u = 0` and `u = y - x`; the negative cell's range check alone stops each. MaxPool's max gate: the
/// smaller operand as the maximum makes one gap negative, stopped by that gap's check alone.
#[test]
fn relu_and_max_forgeries_are_stopped_by_their_range_checks() {
    let g = one_op(QOp::Relu, &[1, 2], &[1, 2]);
    let honest = honest_layout(&g, &[1, 2], vec![-37, 52]);
    let [row] = gate_rows(&honest, Gate::Relu)[..] else { panic!("one relu row") };
    for (i, x, claim, negative) in [(0, -37i64, -37i64, 1usize), (1, 52, 0, 2)] {
        let mut l = honest.clone();
        l.set(Pos::Lane(3 * i + 1, row), fe(claim));
        l.set(Pos::Lane(3 * i + 2, row), fe(claim - x));
        // The non-negative one of (y, u) keeps a consistent check; the negative one cannot have one.
        let fine = if negative == 1 { 2 } else { 1 };
        redo_range_check(&mut l, Pos::Lane(3 * i + fine, row), if fine == 1 { claim } else { claim - x })
            .unwrap();
        l.instance[1 + i] = fe(claim);
        assert!(verify(l.clone()).is_err(), "relu({x}) = {claim} was accepted");
        detach_range_check(&mut l, Pos::Lane(3 * i + negative, row)).unwrap();
        verify(l).unwrap_or_else(|e| panic!("relu({x}): the forgery fails elsewhere too: {e}"));
    }

    let pool = poai_circuits::ir::PoolParams {
        kernel: [1, 2],
        pads: [0, 0, 0, 0],
        strides: [1, 2],
        dilations: [1, 1],
        ceil_mode: false,
        count_include_pad: false,
    };
    let g = one_op(QOp::MaxPool(pool), &[1, 1, 1, 2], &[1, 1, 1, 1]);
    for (a, b) in [(-5i64, 9i64), (9, -5)] {
        let honest = honest_layout(&g, &[1, 1, 1, 2], vec![a, b]);
        let [row] = gate_rows(&honest, Gate::Max2)[..] else { panic!("one max row") };
        let m = a.min(b);
        let mut l = honest.clone();
        for (lane, v) in [(2, m), (3, m - a), (4, m - b)] {
            l.set(Pos::Lane(lane, row), fe(v));
        }
        let (fine, bad) = if m - a >= 0 { (3, 4) } else { (4, 3) };
        redo_range_check(&mut l, Pos::Lane(fine, row), 0).unwrap();
        l.instance[1] = fe(m);
        assert!(verify(l.clone()).is_err(), "max({a}, {b}) = {m} was accepted");
        detach_range_check(&mut l, Pos::Lane(bad, row)).unwrap();
        verify(l).unwrap_or_else(|e| panic!("max({a}, {b}): the forgery fails elsewhere too: {e}"));
    }
}

/// The zero test inside Reciprocal: flipping `z` to 1 for a non-zero `a` needs `a·w = 0`, so `w = 0`, and
/// then the product `a·z = a` cannot equal the zero cell it is copied to; flipping it to 0 for `a = 0`
/// breaks `z = 1 - a·w` itself. Both are rejected.
#[test]
fn is_zero_flags_cannot_be_flipped() {
    let g = one_op(QOp::Reciprocal { numerator_log2: 10 }, &[1, 2], &[1, 2]);
    let honest = honest_layout(&g, &[1, 2], vec![0, 6]);
    // Zero tests are the arith rows with c2 = -1, c3 = 1 (z = 1 - a·w); their a·z rows follow.
    let rows: Vec<usize> = gate_rows(&honest, Gate::Arith)
        .into_iter()
        .filter(|&r| honest.consts[2][r] == -Fr::ONE && honest.consts[3][r] == Fr::ONE)
        .collect();
    assert!(rows.len() >= 4, "two zero tests per element");
    for &row in &rows {
        let a = honest.get(Pos::Lane(0, row));
        let z = honest.get(Pos::Lane(2, row));
        let mut l = honest.clone();
        if a == Fr::ZERO {
            l.set(Pos::Lane(2, row), Fr::ZERO);
        } else {
            // The inverse witness w (its own row, copied into lane 1) becomes 0.
            let w = honest.copies.iter().find(|(p, _)| *p == Pos::Lane(1, row)).unwrap().1;
            l.set(w, Fr::ZERO);
            l.set(Pos::Lane(1, row), Fr::ZERO);
            l.set(Pos::Lane(2, row), Fr::ONE);
            // The product row a·z right after, made consistent with the flipped flag.
            l.set(Pos::Lane(1, row + 1), Fr::ONE);
            l.set(Pos::Lane(2, row + 1), a);
        }
        assert_ne!(l.get(Pos::Lane(2, row)), z);
        let err = verify(l).expect_err("a flipped zero flag was accepted");
        assert!(!err.is_empty());
    }
}

/// Packing (hashed parameters): two values of one packed element moved by `+2^bits` and `-1` keep the
/// element, so the in-circuit model commitment would name other weights. The forged model (the weights
/// changed in the graph, everything recomputed from them) hashes to the honest commitment in the
/// circuit; only the moved value's own range check stops it.
#[test]
fn packed_weights_cannot_trade_a_carry() {
    use poai_circuits::commit::model_commitment;
    use poai_circuits::halo2::{build_layout, ParamVisibility, Visibility, VisibilitySettings};
    use poai_circuits::ir::Tensor;
    let honest = super::halo2_chips::two_layer(7, 6, 4, 2);
    let commitment = model_commitment(&honest).unwrap();
    let mut forged = honest.clone();
    let Source::Const { tensor, .. } = &mut forged.values[1].source else { panic!("w1 is a constant") };
    let bits = 9;
    assert!(tensor.data()[1] > -(1 << (bits - 1)), "the second weight can go down by one");
    tensor.data_mut()[0] += 1 << bits;
    tensor.data_mut()[1] -= 1;
    let vis = VisibilitySettings {
        input: Visibility::Private,
        output: Visibility::Public,
        params: ParamVisibility::Hashed,
    };
    let x = Tensor::new(vec![2, 6], vec![300, -200, 100, 50, -25, 7, 1, 2, 3, 4, 5, 6]).unwrap();
    assert_ne!(
        honest.eval(std::slice::from_ref(&x)).unwrap(),
        forged.eval(std::slice::from_ref(&x)).unwrap()
    );
    let trace = forged.eval_trace(&[x]).unwrap();
    // The circuit's own hash of the forged weights equals the honest commitment (build_layout checks it).
    let mut l = build_layout(&forged, &trace, commitment, vis, 8).unwrap();
    assert_eq!(l.instance[0], commitment);
    assert!(verify(l.clone()).is_err(), "other weights under the honest commitment were accepted");
    let row = gate_rows(&l, Gate::Pack)[0];
    assert_eq!(l.get(Pos::Lane(0, row)), fe(honest_w0(&honest) + (1 << bits)));
    // Without the value's check (its rows refilled with any valid decomposition), the forgery verifies.
    redo_range_check(&mut l, Pos::Lane(0, row), 0).unwrap();
    detach_range_check(&mut l, Pos::Lane(0, row)).unwrap();
    verify(l).unwrap_or_else(|e| panic!("the forgery fails elsewhere too: {e}"));
}

fn honest_w0(g: &QGraph) -> i64 {
    match &g.values[1].source {
        Source::Const { tensor, .. } => tensor.data()[0],
        _ => panic!("w1 is a constant"),
    }
}

/// The quotient's width holds every honest quotient: for each numerator width and least divisor, the
/// extreme numerators and divisors (and a spread between) round into `quotient_bits`; so does every
/// root of a value the root chip accepts.
#[test]
fn quotient_and_root_widths_cover_every_honest_witness() {
    use poai_circuits::halo2::chips::elementwise::quotient_bits;
    use poai_circuits::ir::fixed::{div_round, isqrt_round};
    for n_bits in 1..=40u32 {
        let max = 1i64 << (n_bits - 1);
        for d_min in [1i64, 2, 3, 4, 7, 9, 16, 100, 1 << 20] {
            let w = quotient_bits(n_bits, d_min).unwrap();
            let half = 1i64 << (w - 1);
            for n in [-max, -max + 1, -1, 0, 1, max / 3, max - 1, max] {
                for d in [d_min, d_min + 1, 2 * d_min + 1] {
                    let y = div_round(n, d).unwrap();
                    assert!((-half..half).contains(&y), "n = {n} ({n_bits} bits), d = {d}: {y} in {w} bits");
                }
            }
        }
    }
    // Root checks: a and b in `bits`, the root in `bits - 2`, for v of up to `bits - 3` bits.
    for bits in 4..=62u32 {
        let v_max = (1i64 << (bits - 3)) - 1;
        for v in [0, 1, 2, v_max / 2, v_max - 1, v_max] {
            let s = isqrt_round(v);
            let (a, b) = (
                4 * v - (2 * s - 1) * (2 * s - 1) + i64::from(s == 0),
                (2 * s + 1) * (2 * s + 1) - 1 - 4 * v,
            );
            let fits = |x: i64, w: u32| (0..1i64 << w).contains(&x);
            assert!(fits(a, bits) && fits(b, bits) && fits(s, bits - 2), "v = {v}, bits = {bits}");
        }
    }
}

/// A plain table lookup: claiming another entry's output means looking up another row `(tag, x', y')`
/// of the table, which satisfies the lookup; only the copy tying the looked-up index to the input cell
/// stops it (detached, the forgery verifies).
#[test]
fn plain_table_lookups_are_bound_to_their_input() {
    use poai_circuits::ir::{NonLinear, TableSpec};
    let spec = TableSpec {
        func: NonLinear::Sigmoid,
        in_scale: 4,
        in_bits: 8,
        out_scale: 7,
        out_bits: 9,
        interp_bits: 0,
    };
    let g = super::halo2_chips::one_table(spec, 2);
    let honest = honest_layout(&g, &[1, 2], vec![-3, 40]);
    for (i, x) in [(0usize, -3i64), (1, 40)] {
        let x2 = x + 17;
        let y2 = spec.value(x2);
        assert_ne!(fe(y2), honest.instance[1 + i], "another entry's output");
        let mut l = honest.clone();
        l.set(Pos::TabX(i), fe(x2));
        l.set(Pos::TabY(i), fe(y2));
        l.instance[1 + i] = fe(y2);
        assert!(verify(l.clone()).is_err(), "sigmoid({x}) claimed as sigmoid({x2}) was accepted");
        l.copies.retain(|&(a, b)| a != Pos::TabX(i) && b != Pos::TabX(i));
        verify(l).unwrap_or_else(|e| panic!("x = {x}: the forgery fails elsewhere too: {e}"));
    }
}

/// Freivalds' check (`chips::freivalds`): two products of one column moved so that their combination in
/// the challenge `s` keeps its value satisfy every gate at that `s`. The MockProver's challenges are
/// public, so it accepts the wrong products; fitted to any other `s` the same forgery is rejected. What
/// stops it in a real proof is that `s` is drawn after `Y` is committed (prover test
/// `freivalds_forgery_fitted_to_known_challenges_is_rejected_by_a_real_verifier`).
#[test]
fn freivalds_forgeries_need_the_challenge_before_the_commitment() {
    let (honest, ys) = freivalds_product(6, 4, 3).unwrap();
    verify(honest.clone()).unwrap();
    let [_, s] = mock_prover_challenges(2)[..] else { panic!("two challenges (r, s)") };
    let mut fitted = honest.clone();
    forge_freivalds(&mut fitted, &ys, s).unwrap();
    assert_eq!(fitted.get(ys[0][0].0), fe(ys[0][0].1 + 1), "a wrong product");
    verify(fitted).unwrap_or_else(|e| panic!("the forgery fitted to the known challenge fails: {e}"));
    for other in [s + Fr::ONE, Fr::from(7), -s] {
        let mut l = honest.clone();
        forge_freivalds(&mut l, &ys, other).unwrap();
        let err = verify(l).expect_err("a forgery fitted to another challenge was accepted");
        assert!(err.contains("Equality constraint"), "the two sides' copy: {err}");
    }
}

/// Merkle paths (`dataset::merkle_root`): the sibling is a free witness, so with a non-boolean direction
/// `b` the swap's two linear constraints carry any leaf into a real node pair (`forge_swap`): every hash
/// above, and the root, stay honest. Only `b·(1 - b) = 0` stops it; without it a prover could place a
/// row of its own (here one relabelled) under a dataset's root.
#[test]
fn a_fake_leaf_cannot_enter_a_real_path_through_a_fractional_direction() {
    use poai_circuits::commit::merkle::{leaf_hash, MerkleTree};
    use poai_circuits::halo2::dataset::merkle_root;
    let row = [3, -1, 4, 1];
    let leaves: Vec<Fr> = (0..4u32).map(|i| leaf_hash(u64::from(i), Some(i), &row, 8).unwrap()).collect();
    let tree = MerkleTree::new(leaves.clone()).unwrap();
    for (position, &leaf) in leaves.iter().enumerate() {
        let path = tree.path(position).unwrap();
        let mut honest = Layout::new(8);
        let cell = honest.push_witness(leaf);
        let (root_cell, root) = merkle_root(&mut honest, (cell, leaf), &path).unwrap();
        assert_eq!(root, tree.root());
        honest.instance_cells.push((root_cell, 0));
        honest.instance.push(root);
        verify(honest.clone()).unwrap();
        // The same row at the same index, with another label: a leaf the dataset does not hold.
        let fake = leaf_hash(position as u64, Some(9), &row, 8).unwrap();
        // At the leaf's level (the leaf is the row's own hash; above it the node would be a hash row's
        // output, and the same algebra applies to a fake subtree).
        let level = gate_rows(&honest, Gate::Swap)[0];
        let mut l = honest.clone();
        let b = forge_swap(&mut l, level, fake).unwrap();
        assert!(b != Fr::ZERO && b != Fr::ONE);
        assert_eq!(l.instance[0], tree.root(), "the claimed root is the dataset's");
        let err = verify(l).expect_err("a fake leaf was accepted under the dataset's root");
        assert_stopped_by(&err, "merkle swap", 0, level);
    }
}

/// Asserts that `err` (from `verify`) is one failure: constraint `index` of gate `gate` at `row`.
fn assert_stopped_by(err: &str, gate: &str, index: usize, row: usize) {
    let compact: String = err.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.starts_with("1failures"), "more than the one constraint fails: {err}");
    let gate_name: String = gate.chars().filter(|c| !c.is_whitespace()).collect();
    let constraint = format!("name:\"{gate_name}\",}},index:{index},");
    assert!(compact.contains(&constraint), "not {gate}[{index}]: {err}");
    let at = [format!("offset:{row},"), format!("row:{row},")];
    assert!(at.iter().any(|a| compact.contains(a)), "not row {row}: {err}");
}

/// Accuracy proofs (`dataset::argmax_matches`): with outputs `[5, 5, 1]` the prediction is the first
/// maximum, 0, so label 1 counts as wrong. A prover wanting it counted must clear the first maximum's
/// flag; everything after it (the one-hot of first maxima, the prediction, the comparison with the
/// label, the public count) then follows consistently (`propagate`), and only that flag's own zero
/// test, `z = 1 - a·w` with `a = 0`, stops it: detached from that row, the tie counts as correct.
#[test]
fn argmax_ties_go_to_the_first_maximum_only() {
    use poai_circuits::halo2::chips::operands::SharedCells;
    use poai_circuits::halo2::dataset::argmax_matches;
    for (outputs, label) in [([5i64, 5, 1], 1i64), ([-3, 7, 7], 2), ([2, 2, 2], 1)] {
        let mut honest = Layout::new(8);
        let zero = SharedCells::default().zero(&mut honest);
        let out: Vec<(Pos, i64)> = outputs.iter().map(|&v| (honest.push_witness(fe(v)), v)).collect();
        let label_cell = (honest.push_witness(fe(label)), label);
        let correct = argmax_matches(&mut honest, &out, label_cell, 8, zero).unwrap();
        assert_eq!(correct.1, 0, "{outputs:?}: the first maximum is not {label}");
        honest.instance_cells.push((correct.0, 0));
        honest.instance.push(fe(correct.1));
        verify(honest.clone()).unwrap();
        // The zero tests `z = 1 - a·w` (c2 = -1, c3 = 1), one per output then the label's; the first
        // maximum's comes first among those with a = 0.
        let first_max = gate_rows(&honest, Gate::Arith)
            .into_iter()
            .find(|&r| {
                honest.consts[2][r] == -Fr::ONE
                    && honest.consts[3][r] == Fr::ONE
                    && honest.get(Pos::Lane(0, r)) == Fr::ZERO
            })
            .unwrap();
        let mut l = honest.clone();
        let done = propagate(&mut l, Pos::Lane(2, first_max), Fr::ZERO).unwrap();
        assert!(done.blocked.is_empty() && done.unchecked.is_empty(), "{done:?}");
        assert_eq!(l.instance[0], Fr::ONE, "{outputs:?}: the forged count");
        let err = verify(l.clone()).expect_err("a tie was counted for a later maximum");
        assert_stopped_by(&err, "arith", 0, first_max);
        l.selectors[Gate::Arith as usize][first_max] = false;
        verify(l).unwrap_or_else(|e| panic!("{outputs:?}: the forgery fails elsewhere too: {e}"));
    }
}

/// OneHot, the embedding lookup's first half, on `x = 3` (depth 8, the row public): `e_1 + e_5 - e_3`
/// and `(e_2 + e_4)/2` both keep the row sum 1 and the index sum 3 that the mat-vec ties to the one cell
/// and to `x` (an embedding would read `E[1] + E[5] - E[3]`, or the mean of two rows). Each is rejected,
/// and only by the range checks of its entries that are not bits: detached, the forgery verifies.
#[test]
fn one_hot_forgeries_are_stopped_by_the_bit_checks() {
    use poai_circuits::halo2::forgery::{propagate, range_check_start, CopyClasses};
    let mut g = one_op(QOp::OneHot { depth: 8 }, &[1, 1], &[1, 1, 8]);
    g.values[1].format = FixedFormat { scale: 0, bits: 2 };
    let honest = honest_layout(&g, &[1, 1], vec![3]);
    // The cell of entry v (the public output v sits at instance v + 1), and the copy of it that is
    // range-checked.
    let entry =
        |l: &Layout, v: usize| -> Pos { l.instance_cells.iter().find(|(_, i)| *i == v + 1).unwrap().0 };
    let checked = |l: &Layout, v: usize| -> Pos {
        let classes = CopyClasses::of(l);
        classes.class_of(entry(l, v)).into_iter().find(|&p| range_check_start(l, p).is_some()).unwrap()
    };
    let half = Fr::from(2).invert().unwrap();
    let forgeries = [
        (vec![(1, Fr::ONE), (5, Fr::ONE), (3, -Fr::ONE)], vec![3]),
        (vec![(3, Fr::ZERO), (2, half), (4, half)], vec![2, 4]),
    ];
    let forge = |mut l: Layout, entries: &[(usize, Fr)]| {
        for &(v, value) in entries {
            let cell = entry(&l, v);
            propagate(&mut l, cell, value).unwrap();
        }
        assert_ne!(l.instance, honest.instance, "the claimed row changed");
        l
    };
    for (entries, not_bits) in forgeries {
        verify(forge(honest.clone(), &entries)).expect_err("a forged one-hot row was accepted");
        // The control: the same forgery on the circuit without those entries' checks.
        let mut detached = honest.clone();
        for v in not_bits {
            let cell = checked(&detached, v);
            detach_range_check(&mut detached, cell).unwrap();
        }
        verify(forge(detached, &entries))
            .unwrap_or_else(|e| panic!("{entries:?}: the forgery fails elsewhere too: {e}"));
    }
}

/// A masked softmax (`x[1,4]`, the mask keeping positions 0, 2 and 3): the honest layout verifies and
/// matches `eval` (the masked output is 0, the others a softmax over the kept positions). Claiming what
/// the mask-free softmax gives, the output a prover ignoring the mask would publish, is rejected: the
/// masked position's output is the constant zero cell, fixed by the key, and so are the positions the
/// maximum and the sum read.
#[test]
fn a_masked_softmax_gives_masked_positions_zero_and_the_unmasked_claim_is_rejected() {
    use poai_circuits::ir::Tensor;
    let exp = small_exp();
    let value = |name: &str, scale, bits, source| QValue {
        name: name.into(),
        shape: vec![1, 4],
        format: FixedFormat { scale, bits },
        source,
    };
    let keep = Tensor::new(vec![1, 4], vec![1, 0, 1, 1]).unwrap();
    let masked = QGraph {
        values: vec![
            value("x", 4, 8, Source::Input { index: 0 }),
            value("keep", 0, 2, Source::Const { tensor: keep, param: false }),
            value("p", 6, 8, Source::Node { index: 0 }),
        ],
        nodes: vec![QNode {
            name: "sm".into(),
            op: QOp::Softmax { axis: 1, exp, out_scale: 6 },
            inputs: vec![0, 1],
            output: 2,
        }],
        inputs: vec![0],
        outputs: vec![2],
    };
    let mut unmasked = masked.clone();
    unmasked.nodes[0].inputs.truncate(1);
    let x = vec![-20, 3, 0, 17];
    let y = masked.eval(&[Tensor::new(vec![1, 4], x.clone()).unwrap()]).unwrap();
    assert_eq!(y[0].data()[1], 0, "the masked position gets no weight");
    let honest = honest_layout(&masked, &[1, 4], x.clone());
    let free = honest_layout(&unmasked, &[1, 4], x);
    assert_ne!(free.instance[1..], honest.instance[1..], "the mask changes the outputs");
    // Instance 0 is the model commitment (the mask is part of the model); the outputs follow.
    let mut l = honest.clone();
    l.instance[1..].copy_from_slice(&free.instance[1..]);
    let err = verify(l).expect_err("the mask-free outputs were accepted");
    assert!(err.contains("Equality constraint") || err.contains("failures"), "{err}");
}
