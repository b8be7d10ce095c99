//! The native Poseidon equals halo2-base's in-circuit hasher; packing and commitments bind.

use halo2_base::gates::RangeInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::poseidon::hasher::{spec::OptimizedPoseidonSpec, PoseidonHasher};
use halo2_base::utils::testing::base_test;
use poai_circuits::commit::merkle::{depth_for, label_code, leaf_hash, MerkleTree};
use poai_circuits::commit::{
    fr_from_hex, fr_to_hex, pack_values, poseidon_hash, POSEIDON_RATE, POSEIDON_R_F, POSEIDON_R_P, POSEIDON_T,
};
use rand::{Rng, SeedableRng};

#[test]
fn native_poseidon_matches_halo2_base_circuit() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // Lengths around the rate boundary exercise both padding paths.
    let payloads: Vec<Vec<Fr>> = [0usize, 1, 3, 4, 5, 8, 13]
        .iter()
        .map(|&n| (0..n).map(|_| Fr::from(rng.gen::<u64>())).collect())
        .collect();
    base_test().k(14).lookup_bits(8).run(|ctx, range| {
        let spec =
            OptimizedPoseidonSpec::<Fr, POSEIDON_T, POSEIDON_RATE>::new::<POSEIDON_R_F, POSEIDON_R_P, 0>();
        let mut hasher = PoseidonHasher::<Fr, POSEIDON_T, POSEIDON_RATE>::new(spec);
        hasher.initialize_consts(ctx, range.gate());
        for payload in &payloads {
            let cells = ctx.assign_witnesses(payload.iter().copied());
            let in_circuit = hasher.hash_fix_len_array(ctx, range.gate(), &cells);
            assert_eq!(*in_circuit.value(), poseidon_hash(payload), "length {}", payload.len());
        }
    });
}

#[test]
fn poseidon_separates_lengths_and_values() {
    let a = poseidon_hash(&[Fr::from(1), Fr::from(2)]);
    assert_ne!(a, poseidon_hash(&[Fr::from(1), Fr::from(2), Fr::from(0)]));
    assert_ne!(a, poseidon_hash(&[Fr::from(2), Fr::from(1)]));
    assert_eq!(a, poseidon_hash(&[Fr::from(1), Fr::from(2)]));
}

#[test]
fn packing_is_injective_and_range_checked() {
    let vals = [-8i64, 7, 0, -1, 3];
    let packed = pack_values(&vals, 4).unwrap_or_default();
    assert_eq!(packed.len(), 1);
    let mut other = vals;
    other[4] = 4;
    assert_ne!(packed, pack_values(&other, 4).unwrap_or_default());
    assert!(pack_values(&[8], 4).is_none(), "8 does not fit in 4 signed bits");
    assert_eq!(pack_values(&vec![1i64; 64], 4).map(|p| p.len()), Some(2)); // 63 per element
}

#[test]
fn hex_round_trips() {
    let x = poseidon_hash(&[Fr::from(42)]);
    assert_eq!(fr_from_hex(&fr_to_hex(&x)), Some(x));
    assert_eq!(fr_from_hex("0x12"), None);
}

// Dataset Merkle trees.
fn leaves(n: usize) -> Vec<Fr> {
    (0..n).map(|i| leaf_hash(i as u64, Some(i as u32 % 10), &[i as i64, -1, 2], 8).unwrap()).collect()
}

#[test]
fn every_path_leads_to_the_root() {
    for n in [1, 2, 3, 5, 8, 9] {
        let t = MerkleTree::new(leaves(n)).unwrap();
        assert_eq!(t.depth(), depth_for(n));
        for i in 0..n {
            let p = t.path(i).unwrap();
            assert_eq!(p.root(t.leaf(i).unwrap()), t.root(), "n = {n}, leaf {i}");
        }
        assert!(t.path(n).is_none());
    }
}

#[test]
fn a_changed_leaf_label_or_path_gives_another_root() {
    let t = MerkleTree::new(leaves(5)).unwrap();
    let p = t.path(3).unwrap();
    let other = leaf_hash(3, Some(4), &[3, -1, 2], 8).unwrap();
    assert_ne!(p.root(other), t.root(), "flipped label");
    let other = leaf_hash(3, Some(3), &[3, -1, 3], 8).unwrap();
    assert_ne!(p.root(other), t.root(), "changed value");
    let mut wrong = p.clone();
    wrong.position ^= 1;
    assert_ne!(wrong.root(t.leaf(3).unwrap()), t.root(), "wrong direction");
    let mut changed = leaves(5);
    changed[0] = leaf_hash(0, None, &[0, -1, 2], 8).unwrap();
    assert_ne!(MerkleTree::new(changed).unwrap().root(), t.root());
}

#[test]
fn labels_and_sizes() {
    assert_eq!(label_code(None), 0);
    assert_eq!(label_code(Some(0)), 1);
    assert_eq!(
        (depth_for(1), depth_for(2), depth_for(3), depth_for(1024), depth_for(1025)),
        (1, 1, 2, 10, 11)
    );
    assert!(MerkleTree::new(Vec::new()).is_none());
    assert!(leaf_hash(0, None, &[200], 8).is_none());
}
