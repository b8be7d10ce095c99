//! Softmax and LayerNorm on the sumcheck backend: proofs on random and extreme rows (ties, constant
//! rows, the ends of the input range, padded rows) verify with the outputs `QGraph::eval` computes, and
//! consistent forgeries — a wrong witness that satisfies every relation but one, with the function
//! table's and the range table's multiplicities recounted — are stopped by the constraint named.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::ir::table::interpolate;
use poai_circuits::ir::{NonLinear, QGraph, QOp, TableSpec, Tensor};
use poai_circuits::Fr;
use poai_sumcheck::model::{Plan, Step};
use rand::Rng;

use super::model::{forge, get, one_node, output_quantity, proved, set, tensor, verify};

const OUT: u32 = 14;

fn exp_spec() -> TableSpec {
    TableSpec { func: NonLinear::Exp, in_scale: 13, in_bits: 17, out_scale: 14, out_bits: 16, interp_bits: 6 }
}

fn softmax(shape: &[usize]) -> QGraph {
    one_node(QOp::Softmax { axis: shape.len() - 1, exp: exp_spec(), out_scale: OUT }, shape, 16, shape, 16)
}

fn layer_norm(shape: &[usize]) -> QGraph {
    one_node(QOp::LayerNorm { axis: shape.len() - 1, eps: 168, out_scale: 12 }, shape, 16, shape, 16)
}

fn prove_and_verify(graph: &QGraph, inputs: &[Tensor]) {
    let (key, outputs, proof) = proved(graph, inputs);
    let mut wrong = outputs.clone();
    wrong[0].data_mut()[1] += 1;
    assert!(verify(key, graph, (inputs, &wrong), &proof).is_err(), "a wrong output is rejected");
}

/// `len` values: a quarter constant (ties), a quarter at both ends of the range, a quarter of repeating
/// small values, the rest random.
fn rows(len: usize, seed: u64) -> Vec<i64> {
    let mut r = super::rng(seed);
    let mut data: Vec<i64> = (0..len).map(|_| r.gen_range(-32768..32768)).collect();
    let n = len / 4;
    data[..n].fill(77);
    data[n..2 * n].iter_mut().enumerate().for_each(|(i, v)| *v = if i % 2 == 0 { 32767 } else { -32768 });
    data[2 * n..3 * n].iter_mut().enumerate().for_each(|(i, v)| *v = (i as i64 % 3) * 900 - 400);
    data
}

#[test]
fn softmax_and_layer_norm_prove_the_outputs_eval_computes_on_random_and_extreme_rows() {
    // Rows of a power of two (the row view is the flat layout) and not (a padded view joined to the
    // flat layout by wirings); four rows, three and five (the last padded): every relation must hold on
    // the padding too.
    for (rows_count, len, seed) in [(4, 8, 1), (3, 8, 2), (3, 6, 3), (5, 12, 4)] {
        let shape = [rows_count, len];
        prove_and_verify(&softmax(&shape), &[tensor(&shape, &rows(rows_count * len, seed))]);
        let shape = [1, rows_count, 2 * len];
        prove_and_verify(&layer_norm(&shape), &[tensor(&shape, &rows(rows_count * 2 * len, seed + 10))]);
    }
}

#[test]
fn softmax_over_another_axis_is_refused_with_the_remedy() {
    let graph = one_node(QOp::Softmax { axis: 0, exp: exp_spec(), out_scale: OUT }, &[4, 8], 16, &[4, 8], 16);
    let err = Plan::new(&graph).unwrap_err().to_string();
    assert!(err.contains("last axis") && err.contains("halo2 backend"), "{err}");
}

/// The exp table's witness `(q, c, r, d, t, e)` at input `z`.
fn table_parts(spec: &TableSpec, z: i64) -> [i64; 6] {
    let (q, r) = spec.split(z);
    let (c, d) = spec.entry_slope(q);
    let (t, e) = interpolate(d, r, spec.interp_bits);
    [q, c, r, d, t, e]
}

/// Rewrites row `row` of a softmax witness for the row maximum `m` (honest or not): gaps, the exp
/// table's witness and multiplicities, the division; returns the outputs it gives.
fn rewrite_softmax_row(plan: &Plan, packed: &mut [Fr], x: &[i64], (row, m): (usize, i64)) -> Vec<i64> {
    let gaps: Vec<i64> = x.iter().map(|&v| m - v).collect();
    rewrite_row_gaps(plan, packed, &gaps, (row, m), &vec![true; x.len()])
}

/// [`rewrite_softmax_row`] from the gaps themselves, the sum over the `kept` slots only (a mask).
fn rewrite_row_gaps(
    plan: &Plan,
    packed: &mut [Fr],
    gaps: &[i64],
    (row, m): (usize, i64),
    kept: &[bool],
) -> Vec<i64> {
    let x: Vec<i64> = gaps.iter().map(|&g| m - g).collect();
    let Step::Softmax(w) = &plan.steps[0] else { panic!("{:?}", plan.steps[0]) };
    let spec = exp_spec();
    let [r_q, d_q, t_q, e_q] = w.exp.interpolation.clone().unwrap();
    let mult = plan.packing.unchecked[w.exp.multiplicities];
    let lo = spec.index_domain().0;
    set(plan, packed, &w.max, row, m);
    let mut exps = Vec::new();
    for (j, &xj) in x.iter().enumerate() {
        let pos = row * x.len() + j;
        let old = get(plan, packed, &w.exp.index, pos);
        packed[mult.offset + (old - lo) as usize] -= Fr::ONE;
        let [q, c, r, d, t, e] = table_parts(&spec, xj - m);
        packed[mult.offset + (q - lo) as usize] += Fr::ONE;
        set(plan, packed, &w.gaps, pos, m - xj);
        for (quantity, v) in
            [(&w.exp.index, q), (&w.exp.entry, c), (&r_q, r), (&d_q, d), (&t_q, t), (&e_q, e)]
        {
            set(plan, packed, quantity, pos, v);
        }
        exps.push(c + t);
    }
    let s: i64 = exps.iter().zip(kept).filter(|(_, &k)| k).map(|(e, _)| e).sum();
    let y_q = w.output.clone();
    exps.iter()
        .enumerate()
        .map(|(j, &e)| {
            let pos = row * x.len() + j;
            let y = (2 * (e << OUT) + s).div_euclid(2 * s);
            let rem = 2 * (e << OUT) + s - 2 * s * y;
            set(plan, packed, &y_q, pos, y);
            set(plan, packed, &w.remainder, pos, rem);
            set(plan, packed, &w.complement, pos, 2 * s - 1 - rem);
            y
        })
        .collect()
}

#[test]
fn softmax_forgeries_are_stopped_by_the_max_zerocheck_the_lookup_or_the_range_check() {
    let graph = softmax(&[2, 8]);
    // Moderate values, so that a maximum 3000 too high keeps every gap inside the exp table's domain.
    let x: Vec<i64> = (0..16).map(|i| (i * 7919 % 13) * 700 - 4000).collect();
    let inputs = vec![tensor(&[2, 8], &x)];
    let row0 = x[..8].to_vec();
    let max = *row0.iter().max().unwrap();

    // A row maximum 3000 above the true one, every gap 3000 larger, the exponentials, their sum and the
    // division redone for it (outputs change by the table's rounding): x = m - g still holds and every
    // gap is in range; no gap is zero, so only the product zerocheck of the gaps fails.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let y = rewrite_softmax_row(plan, packed, &row0, (0, max + 3000));
        outputs[0].data_mut()[..8].copy_from_slice(&y);
    });
    assert!(err.to_string().contains("node `gate`: round 0"), "{err}");

    // An output one higher with the remainder 2s lower: the division still holds, the remainder is
    // negative, out of range.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let Step::Softmax(w) = &plan.steps[0] else { panic!() };
        let y_q = output_quantity(plan);
        let (y, rem, comp) = (
            get(plan, packed, &y_q, 2),
            get(plan, packed, &w.remainder, 2),
            get(plan, packed, &w.complement, 2),
        );
        let s = (rem + comp + 1) / 2;
        set(plan, packed, &y_q, 2, y + 1);
        set(plan, packed, &w.remainder, 2, rem - 2 * s);
        set(plan, packed, &w.complement, 2, comp + 2 * s);
        outputs[0].data_mut()[2] += 1;
    });
    assert!(err.to_string().contains("range checks"), "{err}");

    // An exponential one higher (its entry), the row's sum and division redone: every relation but the
    // lookup holds; (q, c + 1, d) is not a row of the exp table.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let Step::Softmax(w) = &plan.steps[0] else { panic!() };
        let (w, y_q) = (w.clone(), output_quantity(plan));
        let c = get(plan, packed, &w.exp.entry, 3);
        set(plan, packed, &w.exp.entry, 3, c + 1);
        let t = w.exp.interpolation.clone().unwrap()[2].clone();
        let exps: Vec<i64> =
            (0..8).map(|j| get(plan, packed, &w.exp.entry, j) + get(plan, packed, &t, j)).collect();
        let s: i64 = exps.iter().sum();
        for (j, &e) in exps.iter().enumerate() {
            let y = (2 * (e << OUT) + s).div_euclid(2 * s);
            let rem = 2 * (e << OUT) + s - 2 * s * y;
            set(plan, packed, &y_q, j, y);
            set(plan, packed, &w.remainder, j, rem);
            set(plan, packed, &w.complement, j, 2 * s - 1 - rem);
            outputs[0].data_mut()[j] = y;
        }
    });
    assert!(err.to_string().contains("not in the table"), "{err}");
}

/// Rewrites row `row` of a layer norm's witness for the mean `mean` and the deviation `sd` (honest or
/// not), the remainders and slacks following from them; returns the outputs it gives.
fn rewrite_layer_norm_row(
    plan: &Plan,
    packed: &mut [Fr],
    x: &[i64],
    (row, mean, sd): (usize, i64, Option<i64>),
) -> Vec<i64> {
    let Step::LayerNorm(w) = &plan.steps[0] else { panic!("{:?}", plan.steps[0]) };
    let n = x.len() as i64;
    let total: i64 = x.iter().sum();
    let d: Vec<i64> = x.iter().map(|v| v - mean).collect();
    let squares: i64 = d.iter().map(|v| v * v).sum();
    let var = (2 * squares + n).div_euclid(2 * n);
    let v = var + 168;
    let s = sd.unwrap_or_else(|| poai_circuits::ir::fixed::isqrt_round(v));
    let r = 2 * total + n - 2 * n * mean;
    let r2 = 2 * squares + n - 2 * n * var;
    let columns = [
        mean,
        r,
        2 * n - 1 - r,
        var,
        r2,
        2 * n - 1 - r2,
        s,
        4 * v - (2 * s - 1).pow(2),
        (2 * s + 1).pow(2) - 1 - 4 * v,
    ];
    for (q, c) in w.mean.iter().chain(&w.variance).chain(&w.deviation).zip(columns) {
        set(plan, packed, q, row, c);
    }
    let y_q = output_quantity(plan);
    d.iter()
        .enumerate()
        .map(|(j, &dj)| {
            let pos = row * x.len() + j;
            let y = (2 * (dj << 12) + s).div_euclid(2 * s);
            let rem = 2 * (dj << 12) + s - 2 * s * y;
            set(plan, packed, &y_q, pos, y);
            set(plan, packed, &w.division[0], pos, rem);
            set(plan, packed, &w.division[1], pos, 2 * s - 1 - rem);
            y
        })
        .collect()
}

#[test]
fn layer_norm_forgeries_are_stopped_by_the_range_checks_or_the_deviation_zerocheck() {
    let graph = layer_norm(&[1, 2, 16]);
    let x = rows(32, 9);
    let inputs = vec![tensor(&[1, 2, 16], &x)];
    let row0 = x[..16].to_vec();
    let total: i64 = row0.iter().sum();
    let mean = (2 * total + 16).div_euclid(32);

    // A mean one higher, everything after it (d, the variance, the deviation, the outputs) redone: the
    // mean's remainder is then 2n lower, negative.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let y = rewrite_layer_norm_row(plan, packed, &row0, (0, mean + 1, None));
        outputs[0].data_mut()[..16].copy_from_slice(&y);
    });
    assert!(err.to_string().contains("range checks"), "{err}");

    // A deviation one higher with both slacks recomputed and the outputs divided by it: the lower slack
    // 4(v + ε) - (2s - 1)² is negative.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let Step::LayerNorm(w) = &plan.steps[0] else { panic!() };
        let s = get(plan, packed, &w.deviation[0], 0);
        let y = rewrite_layer_norm_row(plan, packed, &row0, (0, mean, Some(s + 1)));
        outputs[0].data_mut()[..16].copy_from_slice(&y);
    });
    assert!(err.to_string().contains("range checks"), "{err}");

    // Slacks moved by 4 (a + 4, b - 4, both still in range, a + b = 8s - 1 still): only the zerocheck
    // a = 4(v + ε) - (2s - 1)² fails.
    let err = forge(&graph, &inputs, |plan, packed, _| {
        let Step::LayerNorm(w) = &plan.steps[0] else { panic!() };
        let (a, b) = (get(plan, packed, &w.deviation[1], 0), get(plan, packed, &w.deviation[2], 0));
        assert!(b >= 4, "the upper slack {b} leaves room");
        set(plan, packed, &w.deviation[1], 0, a + 4);
        set(plan, packed, &w.deviation[2], 0, b - 4);
    });
    assert!(err.to_string().contains("node `gate`: round 0"), "{err}");

    // An output one higher with the division's remainder 2s lower: negative, out of range.
    let err = forge(&graph, &inputs, |plan, packed, outputs| {
        let Step::LayerNorm(w) = &plan.steps[0] else { panic!() };
        let y_q = output_quantity(plan);
        let s = get(plan, packed, &w.deviation[0], 0);
        let (y, rem) = (get(plan, packed, &y_q, 5), get(plan, packed, &w.division[0], 5));
        set(plan, packed, &y_q, 5, y + 1);
        set(plan, packed, &w.division[0], 5, rem - 2 * s);
        let complement = get(plan, packed, &w.division[1], 5);
        set(plan, packed, &w.division[1], 5, complement + 2 * s);
        outputs[0].data_mut()[5] += 1;
    });
    assert!(err.to_string().contains("range checks"), "{err}");
}

/// A softmax over `shape` (last axis) with the constant mask `keep` (broadcast to it) as second input.
fn masked_softmax(shape: &[usize], keep_shape: &[usize], keep: &[i64]) -> QGraph {
    use super::model::{node, value};
    use poai_circuits::ir::Source;
    let op = QOp::Softmax { axis: shape.len() - 1, exp: exp_spec(), out_scale: OUT };
    let mask = Source::Const { tensor: tensor(keep_shape, keep), param: false };
    QGraph {
        values: vec![
            value("x", shape, 16, poai_circuits::ir::Source::Input { index: 0 }),
            value("keep", keep_shape, 2, mask),
            value("y", shape, 16, poai_circuits::ir::Source::Node { index: 0 }),
        ],
        nodes: vec![node("gate", op, vec![0, 1], 2)],
        inputs: vec![0],
        outputs: vec![2],
    }
}

/// A causal mask over `n × n`: query `i` keeps keys `j <= i`.
fn causal(n: usize) -> Vec<i64> {
    (0..n * n).map(|t| i64::from(t % n <= t / n)).collect()
}

/// Masked softmaxes (an attention mask broadcast over heads) prove with the outputs `eval` computes,
/// masked positions 0 even where the input there exceeds every kept value; claiming anything else at a
/// masked position is rejected. Rows of a power of two and not, padded row counts.
#[test]
fn masked_softmaxes_prove_the_outputs_eval_computes() {
    for (heads, n, seed) in [(2, 8, 21), (3, 6, 22), (1, 5, 23)] {
        let shape = [1, heads, n, n];
        let graph = masked_softmax(&shape, &[1, 1, n, n], &causal(n));
        let mut x = rows(heads * n * n, seed);
        // The largest input sits at masked slots (above the diagonal).
        for h in 0..heads {
            for i in 0..n - 1 {
                x[(h * n + i) * n + n - 1] = 32767;
            }
        }
        let inputs = vec![tensor(&shape, &x)];
        prove_and_verify(&graph, &inputs);
        let (key, outputs, proof) = super::model::proved(&graph, &inputs);
        assert_eq!(outputs[0].data()[n - 1], 0, "a masked position gets no weight");
        let mut wrong = outputs.clone();
        wrong[0].data_mut()[n - 1] = 1;
        assert!(verify(key, &graph, (&inputs, &wrong), &proof).is_err(), "a masked output claimed 1");
    }
}

/// The consistent forgeries a mask invites: a row maximum 3000 above the kept values' with every kept
/// gap redone. With the masked gaps at 1 the product zerocheck stops it (no gap is zero); with one
/// masked gap set to 0 the product holds, and the gap relation `W_K(x) = m·K - g + M` (a masked gap
/// must be 1) stops it.
#[test]
fn masked_softmax_forgeries_are_stopped_by_the_max_zerocheck_or_the_masked_gap() {
    let keep: Vec<i64> = [1, 1, 1, 1, 1, 0, 0, 0].into_iter().chain([1; 8]).collect();
    let graph = masked_softmax(&[2, 8], &[2, 8], &keep);
    let mut x: Vec<i64> = (0..16).map(|i| (i * 7919 % 13) * 700 - 4000).collect();
    x[6] = 9000;
    let inputs = vec![tensor(&[2, 8], &x)];
    let kept: Vec<bool> = keep[..8].iter().map(|&k| k == 1).collect();
    let m = x[..5].iter().copied().max().unwrap() + 3000;
    for zero_slot in [None, Some(5)] {
        let err = forge(&graph, &inputs, |plan, packed, outputs| {
            let gaps: Vec<i64> = (0..8)
                .map(|j| {
                    if kept[j] {
                        m - x[j]
                    } else if Some(j) == zero_slot {
                        0
                    } else {
                        1
                    }
                })
                .collect();
            let y = rewrite_row_gaps(plan, packed, &gaps, (0, m), &kept);
            for j in 0..8 {
                outputs[0].data_mut()[j] = if kept[j] { y[j] } else { 0 };
            }
        });
        let want = if zero_slot.is_none() { "node `gate`: round 0" } else { "a masked gap is 1" };
        assert!(err.to_string().contains(want), "{zero_slot:?}: {err}");
    }
}
