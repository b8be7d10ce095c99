//! Dataset commitments: a binary Poseidon Merkle tree over quantised rows, the native side of what the
//! dataset-bound circuits check.
//!
//! - leaf `i` = `Poseidon(LEAF_DOMAIN, i, label_code, pack_values(row, bits)...)`: the row's own index is
//!   hashed into it, so a proof that a leaf with index `i` lies under the root shows it *is* row `i` (no
//!   other leaf carries that index) without tying the path's left/right bits to `i`;
//! - node = `Poseidon(NODE_DOMAIN, left, right)` (three inputs: one permutation);
//! - the tree has `2^depth` leaves, `depth >= 1`; positions past the last row hold zero (no preimage).
//!
//! The root alone is the dataset commitment.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use rayon::prelude::*;

use super::{pack_values, poseidon_hash};

/// Domain tag of dataset leaves ("poai/leaf").
pub const LEAF_DOMAIN: u64 = 0x706f_6169_6c65_6166;
/// Domain tag of inner nodes ("poai/node").
pub const NODE_DOMAIN: u64 = 0x706f_6169_6e6f_6465;
/// Deepest tree poai builds (2^32 rows).
pub const MAX_DEPTH: u32 = 32;

/// The field element a leaf stores for a row's label: `label + 1`, or 0 for an unlabelled row.
pub fn label_code(label: Option<u32>) -> u64 {
    label.map_or(0, |l| u64::from(l) + 1)
}

/// The leaf of row `index` with quantised `values` (each inside `bits`). `None` if a value lies outside
/// its width.
pub fn leaf_hash(index: u64, label: Option<u32>, values: &[i64], bits: u32) -> Option<Fr> {
    let mut pre = vec![Fr::from(LEAF_DOMAIN), Fr::from(index), Fr::from(label_code(label))];
    pre.extend(pack_values(values, bits)?);
    Some(poseidon_hash(&pre))
}

/// An inner node.
pub fn node_hash(left: Fr, right: Fr) -> Fr {
    poseidon_hash(&[Fr::from(NODE_DOMAIN), left, right])
}

/// Depth of the tree for `rows` rows: `ceil(log2(rows))`, at least 1.
pub fn depth_for(rows: usize) -> u32 {
    rows.max(2).next_power_of_two().trailing_zeros()
}

/// The authentication path of one leaf: its position and the sibling at every level, leaf level first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
    /// Leaf position (bit `l` set: the node at level `l` is a right child).
    pub position: u64,
    /// Siblings, from the leaf's up to the root's children.
    pub siblings: Vec<Fr>,
}

impl MerklePath {
    /// An all-zero path of `depth` levels (the witness key generation lays out).
    pub fn zeros(depth: u32) -> Self {
        Self { position: 0, siblings: vec![Fr::ZERO; depth as usize] }
    }

    /// Whether the node at `level` is a right child.
    pub fn is_right(&self, level: usize) -> bool {
        level < 64 && (self.position >> level) & 1 == 1
    }

    /// The root this path leads to from `leaf`.
    pub fn root(&self, leaf: Fr) -> Fr {
        self.siblings.iter().enumerate().fold(leaf, |cur, (level, &sib)| {
            if self.is_right(level) {
                node_hash(sib, cur)
            } else {
                node_hash(cur, sib)
            }
        })
    }
}

/// A whole tree, every level kept (paths are read off it).
#[derive(Clone, Debug)]
pub struct MerkleTree {
    /// `levels[0]` are the leaves actually present; `levels[depth]` is the root. A level shorter than its
    /// full width continues with `empty[level]`.
    levels: Vec<Vec<Fr>>,
    empty: Vec<Fr>,
}

impl MerkleTree {
    /// Builds the tree of depth [`depth_for`]`(leaves.len())` (hashing levels in parallel). `None` for an
    /// empty or too large dataset.
    pub fn new(leaves: Vec<Fr>) -> Option<Self> {
        if leaves.is_empty() || leaves.len() as u64 > 1u64 << MAX_DEPTH {
            return None;
        }
        let depth = depth_for(leaves.len()) as usize;
        let mut empty = vec![Fr::ZERO];
        for l in 0..depth {
            empty.push(node_hash(empty[l], empty[l]));
        }
        let mut levels = vec![leaves];
        for l in 0..depth {
            let below = &levels[l];
            let next: Vec<Fr> = below
                .par_chunks(2)
                .map(|pair| node_hash(pair[0], pair.get(1).copied().unwrap_or(empty[l])))
                .collect();
            levels.push(next);
        }
        Some(Self { levels, empty })
    }

    /// Tree depth (levels of siblings in a path).
    pub fn depth(&self) -> u32 {
        (self.levels.len() - 1) as u32
    }

    /// The root: the dataset commitment.
    pub fn root(&self) -> Fr {
        self.levels[self.levels.len() - 1][0]
    }

    /// Number of leaves present (rows).
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// True for a tree without rows (never built by [`MerkleTree::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Leaf `i`.
    pub fn leaf(&self, i: usize) -> Option<Fr> {
        self.levels[0].get(i).copied()
    }

    /// The path of leaf `i`; `None` past the last row.
    pub fn path(&self, i: usize) -> Option<MerklePath> {
        if i >= self.len() {
            return None;
        }
        let siblings = (0..self.depth() as usize)
            .map(|l| {
                let at = (i >> l) ^ 1;
                self.levels[l].get(at).copied().unwrap_or(self.empty[l])
            })
            .collect();
        Some(MerklePath { position: i as u64, siblings })
    }
}
