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

/// The limb widths a plan chooses between: 16 bits (fewer entries) or 8 (smaller range tables, for
/// models whose witness is small next to a 2^16-entry table).
pub const LIMB_CHOICES: [u32; 2] = [16, 8];

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

/// Chunks are at least `2^MIN_CHUNK_VARS` entries: a tensor stores its length rounded up to that (the
/// extra entries are zero, like the tail), so a claim sends at most `vars - MIN_CHUNK_VARS + 1` values.
pub const MIN_CHUNK_VARS: usize = 4;

/// A committed integer tensor of `len` values over `2^vars` positions (flat layout): value
/// `Σ_l 2^(limb_bits·l)·limb_l - bias` at real positions, zero on the tail. Each limb is stored as the
/// chunks of the binary decomposition of the stored length, each chunk a segment aligned in the tensor
/// and in the packed polynomial, so no tail is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity {
    /// Per limb (least significant first), its chunks (largest first, in position order).
    pub limbs: Vec<Vec<SegmentId>>,
    /// Where each chunk starts in the tensor, and its variables (the same for every limb).
    pub chunks: Vec<(usize, usize)>,
    /// Real values.
    pub len: usize,
    /// Variables of the tensor.
    pub vars: usize,
    /// Subtracted from the limbs' value at real positions.
    pub bias: i64,
    /// Total width of the encoded (biased) value.
    pub width: u32,
    /// Width of every limb but the last.
    pub limb_bits: u32,
}

impl Quantity {
    /// True when one limb in one chunk covers the whole hypercube with no bias: a claim on the tensor is
    /// then a claim on the packed polynomial as it stands.
    pub fn is_plain(&self) -> bool {
        self.limbs.len() == 1 && self.chunks == [(0, self.vars)] && self.bias == 0
    }
}

/// The chunks of a tensor of `len` values in `vars` variables: `(start, vars)` from the binary
/// decomposition of the stored length.
fn chunks(len: usize, vars: usize) -> Vec<(usize, usize)> {
    let unit = 1usize << MIN_CHUNK_VARS.min(vars);
    let stored = (len.max(1).div_ceil(unit) * unit).min(1 << vars);
    let mut out = Vec::new();
    let mut start = 0;
    for b in (0..=vars).rev() {
        if (stored >> b) & 1 == 1 {
            out.push((start, b));
            start += 1 << b;
        }
    }
    out
}

/// Collects segment requests; [`PackingBuilder::finish`] places them.
#[derive(Debug)]
pub struct PackingBuilder {
    requests: Vec<(usize, u32)>,
    unchecked: Vec<usize>,
    limb_bits: u32,
}

impl PackingBuilder {
    /// A builder splitting quantities into limbs of `limb_bits`.
    pub fn new(limb_bits: u32) -> Self {
        Self { requests: Vec::new(), unchecked: Vec::new(), limb_bits }
    }

    /// A segment of `2^vars` entries that is not range-checked (a function table's multiplicities); its
    /// id indexes [`Packing::unchecked`].
    pub fn unchecked(&mut self, vars: usize) -> usize {
        self.unchecked.push(vars);
        self.unchecked.len() - 1
    }

    /// A quantity of `width` bits (after adding `bias`) over `len` values in `vars` variables.
    pub fn quantity(&mut self, (len, vars): (usize, usize), width: u32, bias: i64) -> Quantity {
        let width = width.max(1);
        let chunks = chunks(len, vars);
        let mut limbs = Vec::new();
        let mut left = width;
        while left > 0 {
            let w = left.min(self.limb_bits);
            let ids = chunks
                .iter()
                .map(|&(_, v)| {
                    self.requests.push((v, w));
                    self.requests.len() - 1
                })
                .collect();
            limbs.push(ids);
            left -= w;
        }
        Quantity { limbs, chunks, len, vars, bias, width, limb_bits: self.limb_bits }
    }

    /// Places every segment, and one multiplicity segment per width in use (its range table block).
    pub fn finish(self) -> Packing {
        let mut widths: Vec<u32> = self.requests.iter().map(|r| r.1).collect();
        widths.sort_unstable_by(|a, b| b.cmp(a));
        widths.dedup();
        let advice = self.requests.len();
        let mut requests = self.requests;
        requests.extend(widths.iter().map(|&w| (w as usize, 0)));
        let range_end = requests.len();
        requests.extend(self.unchecked.iter().map(|&v| (v, 0)));
        let mut order: Vec<usize> = (0..requests.len()).collect();
        order.sort_by(|&a, &b| requests[b].0.cmp(&requests[a].0).then(a.cmp(&b)));
        let mut segments = vec![Segment { offset: 0, vars: 0, width: 0 }; requests.len()];
        let mut next = 0usize;
        for i in order {
            let (vars, width) = requests[i];
            segments[i] = Segment { offset: next, vars, width };
            next += 1 << vars;
        }
        let unchecked = segments.split_off(range_end);
        let multiplicities = widths.into_iter().zip(segments.split_off(advice)).collect();
        Packing { vars: log2_ceil(next), segments, multiplicities, unchecked, limb_bits: self.limb_bits }
    }
}

/// The placed segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packing {
    /// Variables of the packed polynomial.
    pub vars: usize,
    /// Advice segments.
    pub segments: Vec<Segment>,
    /// Per width in use (widest first), the multiplicities of its range table block `[0, 2^width)`.
    pub multiplicities: Vec<(u32, Segment)>,
    /// Segments that are not range-checked (function tables' multiplicities).
    pub unchecked: Vec<Segment>,
    /// The limb width.
    pub limb_bits: u32,
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

    /// Total advice entries.
    pub fn advice_entries(&self) -> usize {
        self.segments.iter().map(|s| 1usize << s.vars).sum()
    }
}

/// The tag of width `w`.
pub fn tag(width: u32) -> Fr {
    Fr::from(u64::from(width) << 20)
}

/// The range table block of `width`: `tag(width) + i` for `i < 2^width`.
pub fn table_block(width: u32) -> Vec<Fr> {
    let mut v = tag(width);
    (0..1u64 << width)
        .map(|_| {
            let e = v;
            v += Fr::ONE;
            e
        })
        .collect()
}

/// The block's extension at `point`, in `O(width)`.
pub fn table_block_at(width: u32, point: &[Fr]) -> Fr {
    tag(width) + range_table_at(point)
}
