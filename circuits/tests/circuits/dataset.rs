//! Dataset-bound circuits: a row's Merkle path and the accuracy count are checked in the circuit; a row
//! not in the dataset, a wrong path, a wrong root, a flipped label and a count off by one are rejected.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use poai_circuits::commit::merkle::{leaf_hash, MerkleTree};
use poai_circuits::commit::model_commitment;
use poai_circuits::halo2::dataset::first_argmax;
use poai_circuits::halo2::layout::Gate;
use poai_circuits::halo2::{
    build_dataset_layout, DatasetMode, DatasetRow, Layout, ParamVisibility, Pos, Visibility,
};
use poai_circuits::ir::{QGraph, Tensor};
use rand::{Rng, SeedableRng};

use crate::halo2_chips::{assert_tampers_rejected, two_layer, verify};

/// A small dataset for `g`: random inputs, labels chosen so that some rows are classified correctly and
/// some are not (row `i` is labelled with its prediction when `i` is even).
pub struct Data {
    inputs: Vec<Tensor>,
    labels: Vec<Option<u32>>,
    tree: MerkleTree,
}

fn prediction(g: &QGraph, x: &Tensor) -> u32 {
    let out = g.eval(std::slice::from_ref(x)).unwrap();
    first_argmax(out[0].data()).unwrap() as u32
}

pub fn dataset(g: &QGraph, rows: usize, seed: u64) -> Data {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let shape = g.values[g.inputs[0]].shape.clone();
    let n: usize = shape.iter().product();
    let inputs: Vec<Tensor> = (0..rows)
        .map(|_| Tensor::new(shape.clone(), (0..n).map(|_| rng.gen_range(-2048..2048)).collect()).unwrap())
        .collect();
    let labels: Vec<Option<u32>> = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| Some(if i % 2 == 0 { prediction(g, x) } else { (prediction(g, x) + 1) % 10 }))
        .collect();
    let leaves = inputs
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(i, (x, &label))| leaf_hash(i as u64, label, x.data(), 12).unwrap())
        .collect();
    Data { inputs, labels, tree: MerkleTree::new(leaves).unwrap() }
}

pub fn row(g: &QGraph, d: &Data, i: usize) -> DatasetRow {
    DatasetRow {
        trace: g.eval_trace(std::slice::from_ref(&d.inputs[i])).unwrap(),
        index: i as u64,
        label: d.labels[i],
        path: d.tree.path(i).unwrap(),
    }
}

fn membership(g: &QGraph, d: &Data, r: DatasetRow) -> Layout {
    let mode = DatasetMode::Membership { depth: d.tree.depth() };
    build_dataset_layout(
        g,
        &[r],
        model_commitment(g).unwrap(),
        mode,
        (Visibility::Public, ParamVisibility::Fixed),
        8,
    )
    .unwrap()
}

pub fn accuracy(g: &QGraph, d: &Data, rows: Vec<DatasetRow>) -> Layout {
    let mode = DatasetMode::Accuracy { depth: d.tree.depth(), batch: rows.len() as u32 };
    build_dataset_layout(
        g,
        &rows,
        model_commitment(g).unwrap(),
        mode,
        (Visibility::Public, ParamVisibility::Fixed),
        8,
    )
    .unwrap()
}

/// The layout with its public root replaced by the genuine one: what a prover claiming membership of a
/// row that is not in the dataset would have to get accepted.
fn against(mut l: Layout, root: Fr) -> Result<(), String> {
    l.instance[1] = root;
    verify(l)
}

#[test]
fn membership_proves_a_committed_row_and_rejects_anything_else() {
    let g = two_layer(5, 12, 8, 5);
    let d = dataset(&g, 5, 6);
    let honest = membership(&g, &d, row(&g, &d, 3));
    // Instances: commitment, root, then the ten public outputs.
    assert_eq!(honest.instance[1], d.tree.root());
    assert_eq!(honest.instance.len(), 2 + 10);
    verify(honest.clone()).unwrap();

    // A row that is not in the dataset (one input value changed).
    let mut r = row(&g, &d, 3);
    let mut x = d.inputs[3].data().to_vec();
    x[0] = if x[0] == 0 { 1 } else { 0 };
    r.trace = g.eval_trace(&[Tensor::new(d.inputs[3].shape().to_vec(), x).unwrap()]).unwrap();
    assert!(against(membership(&g, &d, r), d.tree.root()).is_err(), "row not in the dataset accepted");
    // Row 3's values claimed as row 2 (the index is hashed into the leaf).
    let mut r = row(&g, &d, 3);
    r.index = 2;
    assert!(against(membership(&g, &d, r), d.tree.root()).is_err(), "row under another index accepted");
    // A flipped label.
    let mut r = row(&g, &d, 3);
    r.label = r.label.map(|l| l + 1);
    assert!(against(membership(&g, &d, r), d.tree.root()).is_err(), "flipped label accepted");
    // A wrong path: another sibling, or the wrong direction at one level.
    let mut r = row(&g, &d, 3);
    r.path.siblings[1] += Fr::one();
    assert!(against(membership(&g, &d, r), d.tree.root()).is_err(), "wrong sibling accepted");
    let mut r = row(&g, &d, 3);
    r.path.position ^= 2;
    assert!(against(membership(&g, &d, r), d.tree.root()).is_err(), "wrong direction accepted");
    // A wrong root.
    let mut l = honest.clone();
    l.instance[1] += Fr::one();
    assert!(verify(l).is_err(), "wrong root accepted");
    // Single cells: a swap bit set to 2 (with left/right adjusted to match), a swapped pair, a sibling.
    let swap = honest.selectors[Gate::Swap as usize].iter().position(|&b| b).unwrap();
    assert_tampers_rejected(
        &honest,
        &[("sibling", Pos::Lane(2, swap)), ("left", Pos::Lane(3, swap)), ("bit", Pos::Lane(0, swap))],
        "swap ",
    );
    let mut l = honest.clone();
    let (cur, sib) = (l.get(Pos::Lane(1, swap)), l.get(Pos::Lane(2, swap)));
    l.set(Pos::Lane(0, swap), Fr::from(2));
    l.set(Pos::Lane(3, swap), cur + Fr::from(2) * (sib - cur));
    l.set(Pos::Lane(4, swap), sib + Fr::from(2) * (cur - sib));
    assert!(verify(l).is_err(), "non-boolean direction accepted");
}

#[test]
fn accuracy_counts_correct_rows_and_rejects_a_wrong_count() {
    let g = two_layer(7, 12, 8, 5);
    let d = dataset(&g, 6, 8);
    let rows: Vec<DatasetRow> = (1..5).map(|i| row(&g, &d, i)).collect();
    let honest = accuracy(&g, &d, rows.clone());
    // Rows 1..5: 2 and 4 are labelled with their prediction, 1 and 3 are not.
    let want = (1..5).filter(|&i| Some(prediction(&g, &d.inputs[i])) == d.labels[i]).count();
    assert_eq!(want, 2);
    assert_eq!(
        honest.instance,
        vec![model_commitment(&g).unwrap(), d.tree.root(), Fr::from(1), Fr::from(5), Fr::from(want as u64)]
    );
    verify(honest.clone()).unwrap();

    for (i, what) in [(4, "count"), (2, "start"), (3, "end"), (1, "root")] {
        for delta in [Fr::one(), -Fr::one()] {
            let mut l = honest.clone();
            l.instance[i] += delta;
            assert!(verify(l).is_err(), "{what} off by one accepted");
        }
    }
    // A flipped label in one row of the batch.
    let mut flipped = rows.clone();
    flipped[1].label = flipped[1].label.map(|l| (l + 1) % 10);
    assert!(against(accuracy(&g, &d, flipped), d.tree.root()).is_err(), "flipped label accepted");
    // Rows that are not consecutive are refused when building; a row from another position is rejected.
    let mut moved = rows.clone();
    moved[2] = row(&g, &d, 5);
    moved[2].index = 3;
    assert!(against(accuracy(&g, &d, moved), d.tree.root()).is_err(), "row from another position accepted");
    // Tampering with a correctness flag (the is-zero output of a row's label comparison) is rejected.
    let mut l = honest.clone();
    let count_cell = l.instance_cells.iter().find(|(_, i)| *i == 4).unwrap().0;
    let Pos::Lane(_, count_row) = count_cell else { panic!() };
    // The last mat-vec row of the sum holds copies of the flags in its input lanes, beside the count.
    let flag = Pos::Lane(0, count_row);
    let v = l.get(flag);
    l.set(flag, Fr::one() - v);
    assert!(verify(l).is_err(), "flipped correctness flag accepted");
}

#[test]
fn argmax_takes_the_first_maximum() {
    assert_eq!(first_argmax(&[1, 5, 5, 2]), Some(1));
    assert_eq!(first_argmax(&[-3, -3]), Some(0));
    assert_eq!(first_argmax(&[]), None);
}
