//! The packing and Poseidon chips, and the hashed / public visibilities built on them: digests equal the
//! native commitments, and one tampered cell anywhere in packing, absorption or a round is rejected.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::commit::{poseidon_hash, tensor_commitment, INPUT_DOMAIN, OUTPUT_DOMAIN};
use poai_circuits::halo2::chips::elementwise::signed_range_check;
use poai_circuits::halo2::chips::poseidon::{hash, pack, HashInput};
use poai_circuits::halo2::layout::{fe, Gate};
use poai_circuits::halo2::{build_layout, Layout, ParamVisibility, Pos, Visibility, VisibilitySettings};
use poai_circuits::ir::Tensor;
use rand::{Rng, SeedableRng};

use crate::halo2_chips::{assert_tampers_rejected, two_layer, verify};

/// A layout that range-checks `values`, packs them at `bits` and hashes them under `domain`, exposing the
/// digest as the only instance.
fn hashed_values(values: &[i64], bits: u32, domain: u64) -> Layout {
    let mut l = Layout::new(8);
    let mut cells = Vec::new();
    for &v in values {
        let row = l.push_row();
        l.lanes[0][row] = fe(v);
        signed_range_check(&mut l, (Pos::Lane(0, row), v), bits).unwrap();
        cells.push((Pos::Lane(0, row), v));
    }
    let packed = pack(&mut l, &cells, bits).unwrap();
    let mut inputs = vec![HashInput::Const(Fr::from(domain))];
    inputs.extend(packed.into_iter().map(|(p, v)| HashInput::Cell(p, v)));
    let (p, v) = hash(&mut l, &inputs).unwrap();
    l.instance_cells.push((p, 0));
    l.instance.push(v);
    l
}

#[test]
fn digests_equal_the_native_commitments_for_every_length_and_width() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(41);
    // Lengths around the rate (4 elements per permutation) and the packing boundaries (252 / bits).
    for (n, bits) in [(1, 16), (15, 16), (16, 16), (60, 16), (61, 16), (7, 12), (84, 12), (3, 5), (50, 62)] {
        let half = 1i64 << (bits - 1);
        let values: Vec<i64> = (0..n).map(|_| rng.gen_range(-half..half)).collect();
        let l = hashed_values(&values, bits, INPUT_DOMAIN);
        assert_eq!(
            l.instance[0],
            tensor_commitment(INPUT_DOMAIN, &values, bits).unwrap(),
            "n = {n}, bits = {bits}"
        );
        verify(l).unwrap_or_else(|e| panic!("n = {n}, bits = {bits}: {e}"));
    }
    // Bare sponge over cells, lengths 0..=9 (padding paths), against poseidon_hash.
    for n in 0..10u64 {
        let mut l = Layout::new(8);
        let mut inputs = Vec::new();
        let mut native = Vec::new();
        for i in 0..n {
            let row = l.push_row();
            let v = Fr::from(1000 + i * i);
            l.lanes[0][row] = v;
            inputs.push(HashInput::Cell(Pos::Lane(0, row), v));
            native.push(v);
        }
        let (p, v) = hash(&mut l, &inputs).unwrap();
        assert_eq!(v, poseidon_hash(&native), "n = {n}");
        l.instance_cells.push((p, 0));
        l.instance.push(v);
        verify(l).unwrap_or_else(|e| panic!("sponge n = {n}: {e}"));
    }
}

#[test]
fn one_tampered_cell_in_packing_or_hashing_is_rejected() {
    let values: Vec<i64> = (0..40).map(|i| (i * 977) % 60_000 - 30_000).collect();
    let honest = hashed_values(&values, 16, OUTPUT_DOMAIN);
    verify(honest.clone()).unwrap();
    let row = |g: Gate| honest.selectors[g as usize].iter().position(|&b| b).unwrap();
    let last = |g: Gate| honest.selectors[g as usize].iter().rposition(|&b| b).unwrap();
    let (pk, ab, full, part) =
        (row(Gate::Pack), row(Gate::Absorb), row(Gate::PoseidonFull), row(Gate::PoseidonPartial));
    let cases = [
        ("packed value copy", Pos::Lane(3, pk)),
        ("running element", Pos::Lane(8, pk + 1)),
        // Lane 5 of the first absorption is the domain tag, a constant of the row, not a cell.
        ("absorbed input", Pos::Lane(6, ab)),
        ("absorbed state", Pos::Lane(2, ab + 1)),
        ("full-round square", Pos::Lane(6, full)),
        ("full-round fifth square", Pos::Lane(0, full + 1)),
        ("full-round state", Pos::Lane(4, full + 2)),
        ("partial-round square", Pos::Lane(5, part)),
        ("partial-round S-box output", Pos::Lane(6, part)),
        ("second partial round's square", Pos::Lane(7, part)),
        ("state after two partial rounds", Pos::Lane(1, part + 1)),
        ("second absorption's state", Pos::Lane(0, last(Gate::Absorb))),
        ("digest", honest.instance_cells[0].0),
    ];
    assert_tampers_rejected(&honest, &cases, "");
    let mut l = honest;
    l.instance[0] += Fr::one();
    assert!(verify(l).is_err(), "another digest accepted");
}

#[test]
fn a_value_outside_its_width_cannot_be_packed_into_a_colliding_element() {
    // v = 2^15 (one past the 16-bit signed range) packs like (-2^15 at this place) + 1 at the next place:
    // the range check on the value is what rules the collision out.
    let values = vec![-32768i64, 0, 5];
    let mut l = hashed_values(&values, 16, INPUT_DOMAIN);
    let honest_row = l.selectors[Gate::Pack as usize].iter().position(|&b| b).unwrap();
    l.set(Pos::Lane(0, honest_row), fe(32768));
    l.set(Pos::Lane(1, honest_row), fe(-1));
    // The source cells change consistently (the element and every copy still agree).
    l.set(Pos::Lane(0, 0), fe(32768));
    l.set(Pos::Lane(0, 1), fe(-1));
    assert!(verify(l).is_err(), "an out-of-range value was packed");
}

#[test]
fn visibility_modes_expose_what_they_say_and_bind_it() {
    let g = two_layer(9, 20, 12, 5);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
    let x = Tensor::new(vec![2, 20], (0..40).map(|_| rng.gen_range(-2048..2048)).collect()).unwrap();
    let trace = g.eval_trace(std::slice::from_ref(&x)).unwrap();
    let y = g.eval(std::slice::from_ref(&x)).unwrap().remove(0);
    let c = poai_circuits::commit::model_commitment(&g).unwrap();
    let (xb, yb) = (g.values[0].format.bits, g.values[10].format.bits);
    let x_hash = tensor_commitment(INPUT_DOMAIN, x.data(), xb).unwrap();
    let y_hash = tensor_commitment(OUTPUT_DOMAIN, y.data(), yb).unwrap();
    use Visibility::{Hashed, Private, Public};
    let fes = |t: &Tensor| t.data().iter().map(|&v| fe(v)).collect::<Vec<_>>();
    let cases: Vec<(Visibility, Visibility, Vec<Fr>)> = vec![
        (Hashed, Public, [vec![c, x_hash], fes(&y)].concat()),
        (Public, Public, [vec![c], fes(&x), fes(&y)].concat()),
        (Private, Hashed, vec![c, y_hash]),
        (Hashed, Hashed, vec![c, x_hash, y_hash]),
    ];
    for (input, output, want) in cases {
        let l = build_layout(
            &g,
            &trace,
            c,
            VisibilitySettings { input, output, params: ParamVisibility::Fixed },
            8,
        )
        .unwrap();
        assert_eq!(l.instance, want, "{input}/{output}");
        verify(l.clone()).unwrap_or_else(|e| panic!("{input}/{output}: {e}"));
        // Another input or output commitment (or a changed public input) is rejected.
        for i in 1..l.instance.len().min(4) {
            let mut t = l.clone();
            t.instance[i] += Fr::one();
            assert!(verify(t).is_err(), "{input}/{output}: instance {i} changed and accepted");
        }
    }
}
