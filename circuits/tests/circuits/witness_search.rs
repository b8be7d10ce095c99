//! The mechanical search for second witnesses (`halo2::witness_search`): over layouts that together use
//! every gate, no gate row has a second witness; with the range check issue #22 added to a quotient or a
//! root detached, the search finds that issue's forgery by itself.

use std::collections::HashSet;

use poai_circuits::commit::model_commitment;
use poai_circuits::halo2::forgery::{
    avgpool_times_eight, detach_range_check, gate_rows, honest_layout, sqrt_times_two,
};
use poai_circuits::halo2::layout::{fe, Gate};
use poai_circuits::halo2::witness_search::search_second_witnesses;
use poai_circuits::halo2::{build_layout, Layout, ParamVisibility, Pos, Visibility, VisibilitySettings};
use poai_circuits::ir::{QOp, Tensor};
use rand::{Rng, SeedableRng};

use crate::dataset::{accuracy, dataset, row};
use crate::forgery::one_op;
use crate::halo2_chips::{
    attention_like, attention_like_interp, conv_pool, layout_for, leaky_clip, pool_arith, two_layer,
};

/// A layout of `g` on random inputs in `[-bound, bound)`, with `params` visibility.
fn on_random(g: &poai_circuits::ir::QGraph, bound: i64, params: ParamVisibility, seed: u64) -> Layout {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let shape = g.values[g.inputs[0]].shape.clone();
    let n: usize = shape.iter().product();
    let x = Tensor::new(shape, (0..n).map(|_| rng.gen_range(-bound..bound)).collect()).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    let vis = VisibilitySettings { input: Visibility::Hashed, output: Visibility::Public, params };
    build_layout(g, &trace, model_commitment(g).unwrap(), vis, 8).unwrap()
}

/// Hashed parameters with every product row holding both operands ([`Gate::Dot`]).
fn plain_dots() -> Layout {
    use poai_circuits::halo2::layout::LayoutOptions;
    let g = two_layer(1, 20, 12, 5);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let x = Tensor::new(vec![2, 20], (0..40).map(|_| rng.gen_range(-2048..2048)).collect()).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    let vis = VisibilitySettings {
        input: Visibility::Private,
        output: Visibility::Public,
        params: ParamVisibility::Hashed,
    };
    let options = LayoutOptions { range_bits: 8, shared_dots: false, freivalds: false };
    build_layout(&g, &trace, model_commitment(&g).unwrap(), vis, options).unwrap()
}

fn layouts() -> Vec<(&'static str, Layout)> {
    let g = two_layer(5, 12, 8, 5);
    let d = dataset(&g, 4, 3);
    vec![
        ("two layers", layout_for(&two_layer(1, 20, 12, 5), 2)),
        ("two layers, hashed", on_random(&two_layer(1, 20, 12, 5), 2048, ParamVisibility::Hashed, 2)),
        ("conv and pool", on_random(&conv_pool(4), 128, ParamVisibility::Fixed, 4)),
        ("pools and arithmetic", on_random(&pool_arith(5), 128, ParamVisibility::Fixed, 6)),
        ("attention", on_random(&attention_like(), 128, ParamVisibility::Fixed, 13)),
        ("attention, interpolated", on_random(&attention_like_interp(3), 128, ParamVisibility::Fixed, 14)),
        ("leaky relu and clip", on_random(&leaky_clip(16, 3, -40, 50), 128, ParamVisibility::Fixed, 15)),
        (
            "reciprocal",
            on_random(
                &one_op(QOp::Reciprocal { numerator_log2: 10 }, &[1, 8], &[1, 8]),
                128,
                ParamVisibility::Fixed,
                16,
            ),
        ),
        ("avgpool", honest_layout(&avgpool_times_eight().unwrap(), &[1, 1, 2, 2], vec![1, 2, 3, 5]).unwrap()),
        ("sqrt", honest_layout(&sqrt_times_two().unwrap(), &[1, 1], vec![30]).unwrap()),
        ("accuracy", accuracy(&g, &d, (0..2).map(|i| row(&g, &d, i)).collect())),
        ("two layers, hashed, plain dots", plain_dots()),
        ("affine and biases", affine_and_biases()),
    ]
}

/// `affine` and a mat-vec without inputs (its outputs the biases), which no test model lays out.
fn affine_and_biases() -> Layout {
    use poai_circuits::halo2::chips::elementwise::{affine, signed_range_check};
    use poai_circuits::halo2::chips::linear::matvec;
    let mut l = Layout::new(8);
    // An input as the model circuits place one: a witness with its range check.
    let x = (l.push_witness(fe(7)), 7);
    signed_range_check(&mut l, x, 8).unwrap();
    let y = affine(&mut l, x, 3, -5);
    let b = matvec(&mut l, &[], &[], 2, Some(&[4, -9])).unwrap();
    for (i, c) in std::iter::once(y).chain(b).enumerate() {
        l.instance_cells.push((c.0, i));
        l.instance.push(fe(c.1));
    }
    l
}

#[test]
fn no_gate_row_has_a_second_witness() {
    let (mut examined, mut attempts) = (HashSet::new(), 0);
    for (name, l) in layouts() {
        crate::halo2_chips::verify(l.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = search_second_witnesses(&l).unwrap();
        assert!(report.attempts > 0, "{name}: nothing tried");
        assert!(report.found.is_empty(), "{name}: {:?}", report.found.first());
        examined.extend(report.rows.keys().copied());
        attempts += report.attempts;
    }
    eprintln!("{attempts} moves tried");
    // Every gate but the second-phase Freivalds ones (which hold only at the challenges).
    let freivalds = [Gate::RlcR, Gate::RlcS, Gate::Dot2, Gate::Horner2];
    for g in Gate::ALL.iter().copied().filter(|g| !freivalds.contains(g)) {
        assert!(examined.contains(&g), "no layout exercises {g:?}");
    }
}

/// Issue #22's two forgeries, found by the search alone once the check that stops each is detached: it
/// moves the remainder (or the root) and solves the quotient and the public output from the gates.
#[test]
fn the_search_finds_the_issue_22_forgeries_without_their_checks() {
    for (g, shape, x, gate) in [
        (avgpool_times_eight().unwrap(), vec![1, 1, 2, 2], vec![1, 2, 3, 5], Gate::Div),
        (sqrt_times_two().unwrap(), vec![1, 1], vec![1], Gate::Sqrt),
    ] {
        let mut l = honest_layout(&g, &shape, x).unwrap();
        assert!(search_second_witnesses(&l).unwrap().found.is_empty());
        let [row] = gate_rows(&l, gate)[..] else { panic!("one {gate:?} row") };
        detach_range_check(&mut l, Pos::Lane(1, row)).unwrap();
        let report = search_second_witnesses(&l).unwrap();
        let found: Vec<_> = report.found.iter().filter(|f| f.gate == gate && f.row == row).collect();
        assert!(!found.is_empty(), "{gate:?}: no second witness found: {:?}", report.found);
        // Each changes the output the row feeds (the public instance after the model commitment).
        for f in found {
            assert!(
                f.changed.iter().any(|&(p, ..)| l.instance_cells.iter().any(|&(q, i)| q == p && i == 1)),
                "{f:?}"
            );
        }
    }
}
