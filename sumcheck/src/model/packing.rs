//! The one committed polynomial of a proof: every witness tensor (an op's outputs, remainders,
//! saturation excesses, …) as a segment of 16-bit limbs, plus the range table's multiplicities.
//!
//! Segments have power-of-two sizes and sit at offsets aligned to their size (placed largest first), so
//! a segment is a subcube: its variables are the packed polynomial's low ones and its high variables are
//! the fixed bits of its offset. A claim on a segment at `z` is the claim on the packed polynomial at
//! `(z, offset bits)`, and every such claim is merged into one opening.
//!
//! **Range checks.** Every advice entry of width `w ≤ 16` must lie in `[0, 2^w)`: one logup of the
//! tagged values `tag(w) + v` into the table of all `tag(w) + i`, `i < 2^w`, for the widths in use.
//! Tags are `w·2^20`, so entries of different widths never coincide (values are below `2^16`). The
//! verifier evaluates the table's, the tags' and the advice selector's multilinear extensions itself in
//! `O(segments · vars)`.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;

use super::layout::log2_ceil;
use crate::logup::range_table_at;
use crate::SumcheckError;

/// The widest limb.
pub const LIMB_BITS: u32 = 16;

/// Index of a segment in [`Packing::segments`].
pub type SegmentId = usize;

/// `2^vars` packed entries at `offset`; advice entries are range-checked to `width` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First entry (a multiple of `2^vars`).
    pub offset: usize,
    /// log2 of the length.
    pub vars: usize,
    /// Bit width of each entry; 0 for the multiplicities (not range-checked).
    pub width: u32,
}

/// A committed integer tensor: `Σ_l 2^(16·l)·limb_l - bias`, each limb a segment (`bias` shifts a
/// signed range onto `[0, 2^width)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity {
    /// Limb segments, least significant first.
    pub limbs: Vec<SegmentId>,
    /// Subtracted from the limbs' value.
    pub bias: i64,
    /// Total width of the encoded (biased) value.
    pub width: u32,
}

/// Collects segment requests; [`PackingBuilder::finish`] places them.
#[derive(Debug, Default)]
pub struct PackingBuilder {
    requests: Vec<(usize, u32)>,
}

impl PackingBuilder {
    /// A quantity of `width` bits (after adding `bias`) over `2^vars` positions, in limbs.
    pub fn quantity(&mut self, vars: usize, width: u32, bias: i64) -> Quantity {
        let width = width.max(1);
        let mut limbs = Vec::new();
        let mut left = width;
        while left > 0 {
            let w = left.min(LIMB_BITS);
            limbs.push(self.requests.len());
            self.requests.push((vars, w));
            left -= w;
        }
        Quantity { limbs, bias, width }
    }

    /// Places every segment and the multiplicities of the range table the widths need.
    pub fn finish(self) -> Packing {
        let mut widths: Vec<u32> = self.requests.iter().map(|r| r.1).collect();
        widths.sort_unstable_by(|a, b| b.cmp(a));
        widths.dedup();
        let table = RangeTable::new(widths);
        let mut requests = self.requests;
        requests.push((table.vars, 0));
        let mut order: Vec<usize> = (0..requests.len()).collect();
        order.sort_by(|&a, &b| requests[b].0.cmp(&requests[a].0).then(a.cmp(&b)));
        let mut segments = vec![Segment { offset: 0, vars: 0, width: 0 }; requests.len()];
        let mut next = 0usize;
        for i in order {
            let (vars, width) = requests[i];
            segments[i] = Segment { offset: next, vars, width };
            next += 1 << vars;
        }
        let multiplicities = segments.pop().unwrap_or(Segment { offset: 0, vars: 0, width: 0 });
        Packing { vars: log2_ceil(next), segments, multiplicities, table }
    }
}

/// The placed segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packing {
    /// Variables of the packed polynomial.
    pub vars: usize,
    /// Advice segments.
    pub segments: Vec<Segment>,
    /// The range table's multiplicities.
    pub multiplicities: Segment,
    /// The range table.
    pub table: RangeTable,
}

/// `1` on the subcube of `segment` and `0` elsewhere, at `point` (packed variables): the high
/// coordinates against the offset's bits.
pub fn subcube_at(point: &[Fr], offset: usize, vars: usize) -> Fr {
    point.iter().enumerate().skip(vars).fold(Fr::ONE, |acc, (i, z)| {
        if (offset >> i) & 1 == 1 {
            acc * z
        } else {
            acc * (Fr::ONE - z)
        }
    })
}

impl Packing {
    /// The packed point of a point on `segment`.
    pub fn lift(&self, segment: &Segment, point: &[Fr]) -> Result<Vec<Fr>, SumcheckError> {
        if point.len() != segment.vars {
            return Err(SumcheckError::PointLength { vars: segment.vars, got: point.len() });
        }
        let high = (segment.vars..self.vars).map(|i| Fr::from(((segment.offset >> i) & 1) as u64));
        Ok(point.iter().copied().chain(high).collect())
    }

    /// The advice selector's extension at a packed point.
    pub fn selector_at(&self, point: &[Fr]) -> Fr {
        self.segments.iter().map(|s| subcube_at(point, s.offset, s.vars)).sum()
    }

    /// The tags' extension at a packed point (`tag(w)` on advice of width `w`, 0 elsewhere).
    pub fn tags_at(&self, point: &[Fr]) -> Fr {
        self.segments.iter().map(|s| tag(s.width) * subcube_at(point, s.offset, s.vars)).sum()
    }
}

/// The tag of width `w`.
pub fn tag(width: u32) -> Fr {
    Fr::from(u64::from(width) << 20)
}

/// The range table: `tag(w) + i` for `i < 2^w`, one aligned block per width (widest first), zero
/// after the last block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeTable {
    /// Widths, descending.
    pub widths: Vec<u32>,
    /// Variables.
    pub vars: usize,
}

impl RangeTable {
    fn new(widths: Vec<u32>) -> Self {
        let total: usize = widths.iter().map(|w| 1usize << w).sum();
        Self { vars: log2_ceil(total), widths }
    }

    /// Each width's block offset.
    fn blocks(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.widths.iter().scan(0usize, |next, &w| {
            let at = *next;
            *next += 1 << w;
            Some((w, at))
        })
    }

    /// The first entry of the block of `width`.
    pub fn block_of(&self, width: u32) -> Option<usize> {
        self.blocks().find(|(w, _)| *w == width).map(|(_, at)| at)
    }

    /// The table's entries.
    pub fn entries(&self) -> Vec<Fr> {
        let mut t = vec![Fr::ZERO; 1 << self.vars];
        for (w, at) in self.blocks() {
            let base = tag(w);
            let mut v = base;
            for e in &mut t[at..at + (1 << w)] {
                *e = v;
                v += Fr::ONE;
            }
        }
        t
    }

    /// The table's extension at `point`, in `O(widths · vars)`.
    pub fn at(&self, point: &[Fr]) -> Fr {
        self.blocks()
            .map(|(w, at)| {
                let w = w as usize;
                subcube_at(point, at, w) * (tag(w as u32) + range_table_at(&point[..w]))
            })
            .sum()
    }
}
