//! Hashed parameters: the weights are private cells, the circuit computes the model commitment from them,
//! the fixed part of the circuit (what a verifying key holds) depends on the architecture only, and
//! neither a changed weight nor other weights under the claimed commitment pass.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::commit::model_commitment;
use poai_circuits::halo2::layout::{Gate, BLOCK_INPUTS, DOT_WIDTH, PACK_WIDTH, WEIGHT_COLS};
use poai_circuits::halo2::{
    build_layout, Layout, ModelCircuit, ParamVisibility, Pos, Visibility, VisibilitySettings,
};
use poai_circuits::ir::{QGraph, Tensor};
use rand::{Rng, SeedableRng};

use crate::halo2_chips::{assert_tampers_rejected, attention_like, conv_pool, pool_arith, two_layer, verify};

const HASHED: VisibilitySettings = VisibilitySettings {
    input: Visibility::Private,
    output: Visibility::Public,
    params: ParamVisibility::Hashed,
};

fn hashed_layout(g: &QGraph, seed: u64) -> Layout {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let inputs: Vec<Tensor> = g
        .inputs
        .iter()
        .map(|&id| {
            let shape = g.values[id].shape.clone();
            let (n, h) = (shape.iter().product::<usize>(), 1i64 << (g.values[id].format.bits - 2));
            Tensor::new(shape, (0..n).map(|_| rng.gen_range(-h..h)).collect()).unwrap()
        })
        .collect();
    let trace = g.eval_trace(&inputs).unwrap();
    build_layout(g, &trace, model_commitment(g).unwrap(), HASHED, 8).unwrap()
}

/// Everything a verifying key is made from: selectors, fixed columns, copies, constants, tables.
fn fixed_part(l: &Layout) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        (&l.selectors, &l.weights, &l.consts, &l.rc_coeffs, &l.rc_starts, &l.tab_tag),
        (&l.copies, &l.constants, &l.instance_cells, l.range_bits, l.range_columns, l.tables.len()),
    )
}

#[test]
fn hashed_parameters_give_the_native_commitment_and_pass_for_every_linear_op() {
    // Mat-vec with bias (two_layer), grouped conv with bias (conv_pool), a parameter operand of
    // element-wise arithmetic (pool_arith), and attention's parameters.
    for (name, g) in [
        ("two_layer", two_layer(3, 13, 9, 5)),
        ("conv_pool", conv_pool(4)),
        ("pool_arith", pool_arith(5)),
        ("attention_like", attention_like()),
    ] {
        let l = hashed_layout(&g, 7);
        assert_eq!(l.instance[0], model_commitment(&g).unwrap(), "{name}");
        // No weight is a constant of the circuit: the only constants are the zero and one cells.
        assert!(l.constants.iter().all(|&(_, v)| v == Fr::zero() || v == Fr::one()), "{name}");
        verify(l).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn the_fixed_part_depends_on_the_architecture_not_the_weights() {
    // Same shapes and formats, other weights and another input.
    let (a, b) = (two_layer(1, 13, 9, 5), two_layer(2, 13, 9, 5));
    assert_ne!(model_commitment(&a), model_commitment(&b));
    let (la, lb) = (hashed_layout(&a, 1), hashed_layout(&b, 2));
    assert_eq!(fixed_part(&la), fixed_part(&lb));
    let (ca, cb) = (conv_pool(1), conv_pool(2));
    let (lca, lcb) = (hashed_layout(&ca, 1), hashed_layout(&cb, 3));
    assert_eq!(fixed_part(&lca), fixed_part(&lcb));
    // With fixed parameters the weights are in the fixed columns.
    assert_ne!(fixed_layout(&a).weights, fixed_layout(&b).weights);
}

fn fixed_layout(g: &QGraph) -> Layout {
    let mut v = HASHED;
    v.params = ParamVisibility::Fixed;
    let x = Tensor::new(vec![2, 13], vec![1; 26]).unwrap();
    build_layout(g, &g.eval_trace(&[x]).unwrap(), model_commitment(g).unwrap(), v, 8).unwrap()
}

#[test]
fn a_hashed_circuit_configures_only_the_weight_columns_its_gates_read() {
    let g = two_layer(3, 13, 9, 5);
    assert_eq!(ModelCircuit::new(fixed_layout(&g)).shape().weight_columns(), WEIGHT_COLS);
    let hashed = hashed_layout(&g, 7);
    // Packing reads the most: one place value per packed lane.
    assert_eq!(ModelCircuit::new(hashed.clone()).shape().weight_columns(), PACK_WIDTH);
    // A value in a weight column the shape leaves out is refused, not silently dropped.
    let mut l = hashed;
    let row = l.main_rows() - 1;
    l.weights[PACK_WIDTH][row] = Fr::one();
    assert!(verify(l).is_err(), "a weight outside the configured columns was accepted");
}

#[test]
fn other_weights_under_the_claimed_commitment_are_rejected() {
    // A prover holding model b claims model a's commitment: the digest computed from b's weights differs.
    let (a, b) = (two_layer(1, 13, 9, 5), two_layer(2, 13, 9, 5));
    let mut l = hashed_layout(&b, 1);
    verify(l.clone()).unwrap();
    l.instance[0] = model_commitment(&a).unwrap();
    assert!(verify(l).is_err(), "other weights passed under model a's commitment");
}

#[test]
fn one_tampered_weight_or_dot_product_cell_is_rejected() {
    // fc1 (nine outputs) in shared-operand blocks, fc2 (three outputs) in plain dot rows.
    let honest = hashed_layout(&two_layer(3, 13, 9, 3), 7);
    let rows_of = |g: Gate| -> Vec<usize> {
        (0..honest.main_rows()).filter(|&r| honest.selectors[g as usize][r]).collect()
    };
    // fc2: a dot product over 9 inputs + the bias, three rows, the last with two unused slots.
    let dot = rows_of(Gate::Dot);
    let (first, full, last) = (dot[0], dot[1], dot[2]);
    // fc1: the input (13 values + the one cell for the bias) is the shared row, two chunks of eight; a
    // group's first input rows of chunks 0 and 1 are a block (BLOCK_INPUTS + 1 rows) apart.
    let block = rows_of(Gate::DotBlock1);
    let (b0, b1) = (block[0], block[1]);
    assert_eq!(b1 - b0, BLOCK_INPUTS + 1);
    let pack = honest.selectors[Gate::Pack as usize].iter().position(|&b| b).unwrap();
    assert_tampers_rejected(
        &honest,
        &[
            ("weight copy", Pos::Lane(DOT_WIDTH + 1, full)),
            ("input copy", Pos::Lane(2, full)),
            ("first row's accumulator", Pos::Lane(8, first)),
            ("running accumulator", Pos::Lane(8, full)),
            ("unused input slot", Pos::Lane(DOT_WIDTH - 1, last)),
            ("parameter in its pack row", Pos::Lane(5, pack + 1)),
            ("shared row's input copy", Pos::Lane(3, b0 - 1)),
            ("block weight copy", Pos::Lane(3, b0)),
            ("fourth block row's weight copy", Pos::Lane(0, b0 + 3)),
            ("block accumulator", Pos::Lane(8, b0 + 2)),
            ("block running accumulator", Pos::Lane(8, b1)),
            ("block's unused slot", Pos::Lane(7, b1)),
        ],
        "",
    );
    // A parameter changed consistently in its pack row and in every copy: the digest no longer matches.
    let mut l = honest.clone();
    let target = Pos::Lane(DOT_WIDTH, full);
    let source = l.copies.iter().find(|(a, _)| *a == target).map(|&(_, s)| s).unwrap();
    let v = l.get(source) + Fr::one();
    let copies: Vec<Pos> = l.copies.iter().filter(|(_, s)| *s == source).map(|&(a, _)| a).collect();
    l.set(source, v);
    for c in copies {
        l.set(c, v);
    }
    assert!(verify(l).is_err(), "a consistently changed weight was accepted");
}
