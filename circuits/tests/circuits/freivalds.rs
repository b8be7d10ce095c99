//! Freivalds' check of matrix products over witnessed matrices (`chips::freivalds`): honest products
//! pass, one wrong product, input copy, weight copy or second-phase cell is rejected, and a wrong product
//! is stopped by the check itself (detached from it, the same layout verifies).

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::halo2::chips::freivalds::{freivalds_matmul, freivalds_rows};
use poai_circuits::halo2::chips::operands::{SharedCells, Weights};
use poai_circuits::halo2::layout::{fe, Gate, LayoutOptions};
use poai_circuits::halo2::{build_layout, Layout, ParamVisibility, Pos, Visibility, VisibilitySettings};
use poai_circuits::ir::Tensor;
use rand::{Rng, SeedableRng};

use crate::halo2_chips::{assert_tampers_rejected, conv_pool, verify};

/// Cells with their values, one vector per position.
type Cells = Vec<Vec<(Pos, i64)>>;

/// `p` random input vectors of `k` against a random `k × n` matrix (and a committed bias when asked),
/// all free witness cells; returns the layout, the products' cells and the expected products.
fn product(p: usize, k: usize, n: usize, bias: bool, seed: u64) -> (Layout, Cells, Vec<Vec<i64>>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut l = Layout::new(8);
    let cell = |l: &mut Layout, v: i64| (l.push_witness(fe(v)), v);
    let xs: Cells =
        (0..p).map(|_| (0..k).map(|_| cell(&mut l, rng.gen_range(-2048..2048))).collect()).collect();
    let w: Vec<(Pos, i64)> = (0..k * n).map(|_| cell(&mut l, rng.gen_range(-128..128))).collect();
    let b: Vec<(Pos, i64)> = (0..n).map(|_| cell(&mut l, rng.gen_range(-5000..5000))).collect();
    let want: Vec<Vec<i64>> = xs
        .iter()
        .map(|x| {
            (0..n)
                .map(|j| {
                    let dot: i64 = (0..k).map(|t| x[t].1 * w[t * n + j].1).sum();
                    dot + if bias { b[j].1 } else { 0 }
                })
                .collect()
        })
        .collect();
    let bias = bias.then(|| Weights::Cells(b.into()));
    let rows_before = l.main_rows();
    let ys = freivalds_matmul(&mut l, &xs, &w, n, bias.as_ref(), &mut SharedCells::default()).unwrap();
    // The two shared cells (zero, one) aside, the chip takes the rows its cost function says.
    let k_all = k + usize::from(bias.is_some());
    assert!(l.main_rows() - rows_before <= freivalds_rows(p, k_all, n) + 2);
    (l, ys, want)
}

#[test]
fn honest_products_pass_for_every_shape() {
    // Runs shorter than, equal to and longer than a row; one position; one output; with and without bias.
    for (p, k, n, bias) in
        [(1, 1, 1, false), (3, 5, 2, true), (8, 8, 8, false), (17, 9, 11, true), (40, 3, 1, true)]
    {
        let (l, ys, want) = product(p, k, n, bias, (p * 100 + k * 10 + n) as u64);
        let got: Vec<Vec<i64>> = ys.iter().map(|y| y.iter().map(|c| c.1).collect()).collect();
        assert_eq!(got, want, "{p}x{k}x{n}");
        for (y, w) in ys.iter().flatten().zip(want.iter().flatten()) {
            assert_eq!(l.get(y.0), fe(*w));
        }
        verify(l).unwrap_or_else(|e| panic!("{p}x{k}x{n}: {e}"));
    }
}

#[test]
fn one_wrong_cell_is_rejected() {
    let (honest, ys, _) = product(17, 9, 11, true, 5);
    verify(honest.clone()).unwrap();
    let rows = |g: Gate| -> Vec<usize> {
        (0..honest.main_rows()).filter(|&r| honest.selectors[g as usize][r]).collect()
    };
    let (s, r, dot, horner) = (rows(Gate::RlcS), rows(Gate::RlcR), rows(Gate::Dot2), rows(Gate::Horner2));
    assert!(!s.is_empty() && !r.is_empty() && !dot.is_empty() && !horner.is_empty());
    // The input combinations follow the output ones (11 outputs × 3 rows of 17 positions).
    let x_row = s[11 * 3];
    assert_tampers_rejected(
        &honest,
        &[
            ("product", ys[4][7].0),
            ("first product", ys[0][0].0),
            ("last product", ys[16][10].0),
            ("input copy", Pos::Lane(5, x_row)),
            ("padding lane", Pos::Lane(0, s[0])),
            ("weight copy", Pos::Lane(7, r[0])),
            ("combination", Pos::P2(0, s[1])),
            ("dot operand", Pos::P2(1, dot[3])),
            ("dot operand", Pos::P2(2, dot[3])),
            ("Horner operand", Pos::P2(1, horner[0])),
            ("right-hand sum", Pos::P2(0, dot[dot.len() - 1] + 1)),
        ],
        "Freivalds: ",
    );
}

/// A wrong product with everything else consistent: only the final equality of the two sides stops it.
#[test]
fn a_wrong_product_is_stopped_by_the_check_itself() {
    let (honest, ys, _) = product(6, 4, 3, false, 9);
    let last_horner =
        (0..honest.main_rows()).rev().find(|&r| honest.selectors[Gate::Horner2 as usize][r]).unwrap();
    for (p, j) in [(0, 0), (2, 1), (5, 2)] {
        let mut l = honest.clone();
        let v = l.get(ys[p][j].0);
        l.set(ys[p][j].0, v + Fr::from(1));
        assert!(verify(l.clone()).is_err(), "a wrong product ({p}, {j}) was accepted");
        let left = Pos::P2(0, last_horner + 1);
        l.copies.retain(|&(a, b)| a != left && b != left);
        verify(l).unwrap_or_else(|e| panic!("({p}, {j}): the forgery fails elsewhere too: {e}"));
    }
}

#[test]
fn convolutions_over_committed_kernels_use_it_and_match_eval() {
    let hashed = VisibilitySettings {
        input: Visibility::Private,
        output: Visibility::Public,
        params: ParamVisibility::Hashed,
    };
    let g = conv_pool(4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let x = Tensor::new(vec![1, 4, 5, 5], (0..100).map(|_| rng.gen_range(-512..512)).collect()).unwrap();
    let trace = g.eval_trace(&[x]).unwrap();
    let commitment = poai_circuits::commit::model_commitment(&g).unwrap();
    let options = LayoutOptions { range_bits: 8, shared_dots: true, freivalds: true };
    // build_layout checks every node's cells against eval's trace.
    let l = build_layout(&g, &trace, commitment, hashed, options).unwrap();
    assert!(l.shape().phase2());
    assert!(l.selectors[Gate::RlcS as usize].iter().any(|&b| b));
    assert!(!l.selectors[Gate::Dot as usize].iter().any(|&b| b), "the conv still has dot rows");
    verify(l).unwrap();
}
