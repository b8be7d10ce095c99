//! The assignment table a circuit is built from, computed in plain Rust before any halo2 call.
//!
//! Chips append rows to it: the main region (advice lanes plus fixed weight and constant columns, one
//! selector per gate) and the range-check column. `synthesize` only copies the table into one region,
//! so `k` is known before key generation and tests can tamper with any cell directly.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use serde::{Deserialize, Serialize};

/// Advice lanes of the main region (mat-vec inputs + accumulators, or one element's cells per row).
pub const LANES: usize = 9;
/// Mat-vec input elements per row (lanes `0..MV_INPUTS`).
pub const MV_INPUTS: usize = 4;
/// Mat-vec outputs per row (accumulators in lanes `MV_INPUTS..LANES`).
pub const MV_OUTPUTS: usize = LANES - MV_INPUTS;
/// Fixed weight columns: one per multiply-accumulate of a mat-vec row (`t · MV_OUTPUTS + j` holds the
/// weight of input `t` for output `j`); packing and absorption use the first ones for their constants.
pub const WEIGHT_COLS: usize = MV_INPUTS * MV_OUTPUTS;
/// Values per packing row (lanes `0..PACK_WIDTH`; the last lane carries the running element).
pub const PACK_WIDTH: usize = LANES - 1;
/// Fixed constant columns available to element gates.
pub const CONSTS: usize = 5;
/// Most range-check column pairs a layout spreads its range rows over.
pub const MAX_RANGE_COLUMNS: u8 = 3;
/// Rows halo2 keeps for blinding at the end of every column (with margin).
pub const RESERVED_ROWS: usize = 10;

/// Gates with their own selector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gate {
    /// Mat-vec accumulator initialisation (`acc_j = w_j`: the bias).
    MvInit = 0,
    /// Mat-vec step (`acc_j = acc_j(prev) + Σ_t w_(t,j) · x_t`).
    Mv = 1,
    /// Rescale with saturation.
    Rescale = 2,
    /// ReLU, three to a row (lanes `3i, 3i+1, 3i+2`: `x, y, u`).
    Relu = 3,
    /// Affine map `lane1 = c0 · lane0 + c1`.
    Affine = 4,
    /// `m = max(a, b)`.
    Max2 = 5,
    /// `y = c0·a + c1·b + c2·a·b + c3`.
    Arith = 6,
    /// `y = round(n / d)`: `2n + d = 2d·y + r`, `s = 2d - 1 - r`.
    Div = 7,
    /// `y = round(n / d)` for a witnessed `d`: `2n + d = 2d·y + r`, `s = 2d - 1 - r`.
    VarDiv = 8,
    /// `s = round(sqrt(v))`: `a = 4v - (2s - 1)^2 + z`, `b = (2s + 1)^2 - 1 - 4v`, `z` boolean, `z·s = 0`.
    Sqrt = 9,
    /// Packing: `lane8(next) = c0·lane8 + Σ_i w_i·lane_i + c1` (several small values into one element).
    Pack = 10,
    /// Sponge absorption: `s'_0 = w0·s_0 + c_0`, `s'_j = w0·s_j + w_j·x_(j-1) + c_j` (next row).
    Absorb = 11,
    /// Poseidon full round over two rows: squares of `s + c` in lanes 5..=8 and the next row's lane 0,
    /// the new state two rows down.
    PoseidonFull = 12,
    /// Two Poseidon partial rounds in one row: for the first (constants in the constant columns) the
    /// square of `a_0 = s_0 + c_0` in lane 5 and the S-box output `a_0^5` in lane 6; for the second
    /// (constants in weight columns 0..5, its input the first round's output) the square of its S-box input
    /// in lane 7; the state after both on the next row.
    PoseidonPartial = 13,
    /// Merkle step: `b` boolean, `(left, right) = b ? (sib, cur) : (cur, sib)` for lanes `b, cur, sib,
    /// left, right`.
    Swap = 14,
    /// Mat-vec first step, bias included: `acc_j = c_j + Σ_t w_(t,j) · x_t` (no previous row).
    MvFirst = 15,
    /// Dot-product step with witnessed weights: `lane8 = c0·lane8(prev) + c1 + Σ_t lane_t · lane_(4+t)`
    /// (`c0 = 0` on a dot product's first row, `c1` a constant bias).
    Dot = 16,
    /// Shared-operand dot-product step, input row 1 of a block: `lane8 = c0·lane8(-(BLOCK_INPUTS+1)) +
    /// c1 + Σ_t lane_t · lane_t(-1)` (the block's shared row is the row above). See [`Gate::dot_block`].
    DotBlock1 = 17,
    /// The same for input row 2 (the shared row two rows up).
    DotBlock2 = 18,
    /// The same for input row 3.
    DotBlock3 = 19,
    /// The same for input row 4.
    DotBlock4 = 20,
    /// Interpolated table lookup, lanes `x, q, r, c, d, t, e, y`; constants `c0 = 2^f`, `c1 = 2^(f-1)`:
    /// `x = q·c0 + r`, `d·r + c1 = t·c0 + e`, `y = c + t` (`(q, c, d)` a table row, see
    /// [`crate::ir::TableSpec`]).
    Interp = 21,
    /// Random linear combination step in the challenge `r` (see [`P2_COLS`]): `p2_0(next) = c0·r^8·p2_0 +
    /// Σ_i r^(7-i)·lane_i` over lanes `0..RLC_WIDTH` (`c0 = 0` starts a combination).
    RlcR = 22,
    /// The same in the challenge `s`.
    RlcS = 23,
    /// Second-phase dot-product step: `p2_0(next) = c0·p2_0 + p2_1·p2_2`.
    Dot2 = 24,
    /// Second-phase Horner step in `r`: `p2_0(next) = c0·r·p2_0 + p2_1`.
    Horner2 = 25,
}

impl Gate {
    /// Every gate, in discriminant order (`ALL[i] as usize == i`, checked by a test). The numbers reach
    /// key files (a key's shape is a bitmask over them) and selector order, so the enum is append-only:
    /// a new gate takes the next number and goes last here.
    pub const ALL: &'static [Self] = &[
        Self::MvInit,
        Self::Mv,
        Self::Rescale,
        Self::Relu,
        Self::Affine,
        Self::Max2,
        Self::Arith,
        Self::Div,
        Self::VarDiv,
        Self::Sqrt,
        Self::Pack,
        Self::Absorb,
        Self::PoseidonFull,
        Self::PoseidonPartial,
        Self::Swap,
        Self::MvFirst,
        Self::Dot,
        Self::DotBlock1,
        Self::DotBlock2,
        Self::DotBlock3,
        Self::DotBlock4,
        Self::Interp,
        Self::RlcR,
        Self::RlcS,
        Self::Dot2,
        Self::Horner2,
    ];

    /// The shared-operand dot gate of input row `i` (1-based) of a block: one row of `BLOCK_WIDTH`
    /// shared cells (a kernel column, or a mat-vec input) followed by [`BLOCK_INPUTS`] rows of other
    /// operands, each against the same shared row.
    pub fn dot_block(i: usize) -> Option<Self> {
        [Self::DotBlock1, Self::DotBlock2, Self::DotBlock3, Self::DotBlock4].get(i.checked_sub(1)?).copied()
    }
}

/// Number of gate selectors (derived from [`Gate::ALL`]).
pub const GATES: usize = Gate::ALL.len();
/// Second-phase advice columns: `p2_0` holds random linear combinations (written by the gate of the row
/// above), `p2_1` and `p2_2` operands copied from them. Their values depend on the challenges `r` and
/// `s`, drawn after the first-phase columns are committed, so the layout keeps no values for them:
/// [`Layout::phase2_values`] computes them once the challenges are known.
pub const P2_COLS: usize = 3;
/// Values combined per [`Gate::RlcR`] / [`Gate::RlcS`] row (lanes `0..RLC_WIDTH`).
pub const RLC_WIDTH: usize = LANES - 1;
/// Input rows per shared row in a shared-operand dot block ([`Gate::dot_block`]).
pub const BLOCK_INPUTS: usize = 4;
/// Products per input row of a shared-operand dot block (lanes `0..BLOCK_WIDTH`; the last lane is the
/// accumulator).
pub const BLOCK_WIDTH: usize = LANES - 1;
/// Products per dot-product row (inputs in lanes `0..DOT_WIDTH`, weights in the next `DOT_WIDTH`).
pub const DOT_WIDTH: usize = (LANES - 1) / 2;

/// Which gates and lookups a circuit configures: its `Circuit::Params`. A circuit carries only what its
/// layout uses, so a model without tables has no table lookup and every unused gate costs nothing (no
/// selector column, no constraint in the quotient, less code in the Solidity verifier). Key files record
/// it: reading a key needs the same configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CircuitShape {
    /// Bit `g` set: gate `g` (as numbered by [`Gate`]) is configured.
    pub gates: u32,
    /// The non-linear table lookup is configured.
    pub tables: bool,
    /// Range-check column pairs (1 to 3): a circuit bounded by its range checks spreads them out.
    #[serde(default = "one_range_column")]
    pub range_columns: u8,
    /// The table lookup carries each entry's slope (a fourth column): some table interpolates.
    #[serde(default)]
    pub slopes: bool,
}

impl CircuitShape {
    /// Some gate reads the second-phase columns: the circuit has them and draws the challenges `r`, `s`.
    pub fn phase2(&self) -> bool {
        [Gate::RlcR, Gate::RlcS, Gate::Dot2, Gate::Horner2].iter().any(|&g| self.uses(g as usize))
    }
}

fn one_range_column() -> u8 {
    1
}

impl CircuitShape {
    /// True if gate number `g` is configured.
    pub fn uses(&self, g: usize) -> bool {
        g < GATES && self.gates & (1 << g) != 0
    }

    /// Fixed weight columns the configured gates read: all of them for the fixed-weight mat-vec, the
    /// first [`PACK_WIDTH`] for packing, the first `POSEIDON_T` for absorption and partial rounds, none
    /// otherwise. A circuit whose weights are witnesses (hashed parameters) thus carries no idle fixed
    /// column: each would cost a commitment in the key, an opening in every proof and gas on chain.
    pub fn weight_columns(&self) -> usize {
        let needs = |g: Gate, n: usize| if self.uses(g as usize) { n } else { 0 };
        [
            needs(Gate::MvInit, WEIGHT_COLS),
            needs(Gate::Mv, WEIGHT_COLS),
            needs(Gate::MvFirst, WEIGHT_COLS),
            needs(Gate::Pack, PACK_WIDTH),
            needs(Gate::Absorb, crate::commit::POSEIDON_T),
            needs(Gate::PoseidonPartial, crate::commit::POSEIDON_T),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

impl Default for CircuitShape {
    /// Every gate and the table lookup.
    fn default() -> Self {
        Self { gates: (1 << GATES) - 1, tables: true, range_columns: 1, slopes: true }
    }
}

/// A cell of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pos {
    /// Main-region advice lane and row.
    Lane(usize, usize),
    /// Range-check limb column row.
    Rc(usize),
    /// Range-check running-sum column row.
    Rz(usize),
    /// Table-lookup input row.
    TabX(usize),
    /// Table-lookup output row.
    TabY(usize),
    /// Table-lookup slope row.
    TabD(usize),
    /// Second-phase column ([`P2_COLS`]) and main-region row.
    P2(usize, usize),
}

/// Integer to field element (two's complement into the field).
pub fn fe(v: i64) -> Fr {
    if v >= 0 {
        Fr::from(v as u64)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

/// Field element to the small signed integer it encodes, the inverse of [`fe`]: `None` unless
/// `|v| < 2^63`.
pub fn small_int(x: &Fr) -> Option<i64> {
    let to_i = |f: &Fr| -> Option<i64> {
        let repr = f.to_bytes();
        if repr[8..].iter().any(|&b| b != 0) {
            return None;
        }
        i64::try_from(u64::from_le_bytes(repr[..8].try_into().ok()?)).ok()
    };
    to_i(x).or_else(|| to_i(&-*x).map(|v| -v))
}

/// The full table.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// `LANES` advice columns.
    pub lanes: Vec<Vec<Fr>>,
    /// Fixed weights of the mat-vec gate (and constants of packing and absorption), `WEIGHT_COLS` columns.
    pub weights: Vec<Vec<Fr>>,
    /// Fixed constants of element gates, `CONSTS` columns.
    pub consts: Vec<Vec<Fr>>,
    /// Selector of each gate per main-region row.
    pub selectors: Vec<Vec<bool>>,
    /// Range-check limbs (looked up in the range table, every row).
    pub rc: Vec<Fr>,
    /// Running sums of the range decompositions (copy-constrained to the checked cells).
    pub rz: Vec<Fr>,
    /// Fixed coefficients `[a, b, c, d, e]` of `a·rz + b·rc + c·rz(next) + d·rz(prev) + e = 0` per rc
    /// row (`e` lets a check start from a value plus a constant offset).
    pub rc_coeffs: Vec<[Fr; 5]>,
    /// First rc row of every range check (a check's rows stay together in one physical column).
    pub rc_starts: Vec<usize>,
    /// Physical range-check column pairs the rc rows are spread over (1 to 3; see [`Layout::rc_splits`]).
    pub range_columns: u8,
    /// Table-lookup rows: fixed tag (1-based index into `tables`; 0 on unused rows), input and output.
    pub tab_tag: Vec<Fr>,
    /// Table-lookup inputs (copy-constrained to the looked-up cells).
    pub tab_x: Vec<Fr>,
    /// Table-lookup outputs.
    pub tab_y: Vec<Fr>,
    /// Slopes of the looked-up entries (looked up only when some table interpolates).
    pub tab_d: Vec<Fr>,
    /// The non-linear tables this circuit uses; tag `i + 1` is `tables[i]`.
    pub tables: Vec<crate::ir::TableSpec>,
    /// Equality constraints.
    pub copies: Vec<(Pos, Pos)>,
    /// Cells that must equal a constant.
    pub constants: Vec<(Pos, Fr)>,
    /// Public instance values (column 0).
    pub instance: Vec<Fr>,
    /// Cells exposed as instance rows.
    pub instance_cells: Vec<(Pos, usize)>,
    /// Bits of the range table (`[0, 2^range_bits)`).
    pub range_bits: u32,
    /// Dot products over witnessed weights share an operand across rows (the `DotBlock` gates) where
    /// they can; otherwise every product row holds both operands (the `Dot` gate).
    pub shared_dots: bool,
    /// Products of many input vectors with the same witnessed matrix (convolutions over committed
    /// kernels) are checked by Freivalds' random linear combinations instead of product by product.
    pub freivalds: bool,
    /// Second-phase cells overwritten after [`Layout::phase2_values`] computes them (tests tamper with
    /// them through [`Layout::set`]; an honest layout has none).
    pub p2_overrides: Vec<(Pos, Fr)>,
}

/// What a model circuit's layout is chosen for, among the layouts of least `k`: fixed at setup and recorded
/// in key headers, so that proving rebuilds the circuit the key was made for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutGoal {
    /// The fastest proof: every technique that lowers `k` or the range columns, Freivalds checks (three
    /// second-phase columns and two challenges) included.
    #[default]
    Fast,
    /// The fewest columns: no second-phase columns. Each model-circuit column costs the compression
    /// circuit of an on-chain key rows and its Solidity verifier code, so a batched on-chain key over a
    /// narrow model circuit stays within EIP-170 where a fast one may not; the model proof is slower.
    Narrow,
}

impl LayoutGoal {
    /// The default goal (key headers leave it out).
    pub fn is_fast(&self) -> bool {
        *self == Self::Fast
    }
}

impl std::fmt::Display for LayoutGoal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fast => "fast",
            Self::Narrow => "narrow",
        })
    }
}

impl std::str::FromStr for LayoutGoal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fast" => Ok(Self::Fast),
            "narrow" => Ok(Self::Narrow),
            other => Err(format!("unknown layout goal `{other}` (fast or narrow)")),
        }
    }
}

/// How a layout is built: the range table's width and whether dot products share an operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutOptions {
    /// Bits of the range table.
    pub range_bits: u32,
    /// See [`Layout::shared_dots`].
    pub shared_dots: bool,
    /// See [`Layout::freivalds`].
    pub freivalds: bool,
}

impl From<u32> for LayoutOptions {
    /// A range table of `range_bits` with shared-operand dot products, no Freivalds checks.
    fn from(range_bits: u32) -> Self {
        Self { range_bits, shared_dots: true, freivalds: false }
    }
}

impl Layout {
    /// An empty table with range table width `range_bits`.
    pub fn new(range_bits: u32) -> Self {
        Self {
            lanes: vec![Vec::new(); LANES],
            weights: vec![Vec::new(); WEIGHT_COLS],
            consts: vec![Vec::new(); CONSTS],
            selectors: vec![Vec::new(); GATES],
            range_bits,
            range_columns: 1,
            shared_dots: true,
            ..Self::default()
        }
    }

    /// An empty table built as `options` say.
    pub fn with_options(options: LayoutOptions) -> Self {
        Self {
            shared_dots: options.shared_dots,
            freivalds: options.freivalds,
            ..Self::new(options.range_bits)
        }
    }

    /// The gates and lookups this layout uses.
    pub fn shape(&self) -> CircuitShape {
        let gates = self
            .selectors
            .iter()
            .enumerate()
            .filter(|(_, rows)| rows.iter().any(|&b| b))
            .fold(0u32, |m, (g, _)| m | (1 << g));
        CircuitShape {
            gates,
            tables: !self.tables.is_empty() || !self.tab_x.is_empty(),
            range_columns: self.range_columns,
            slopes: self.tables.iter().any(|t| t.interp_bits > 0),
        }
    }

    /// Rows used in the main region.
    pub fn main_rows(&self) -> usize {
        self.lanes[0].len()
    }

    /// Appends one main-region row with all cells zero and no selector; returns its index.
    pub fn push_row(&mut self) -> usize {
        let row = self.main_rows();
        for c in self.lanes.iter_mut().chain(self.weights.iter_mut()).chain(self.consts.iter_mut()) {
            c.push(Fr::ZERO);
        }
        for s in &mut self.selectors {
            s.push(false);
        }
        row
    }

    /// Appends a main-region row holding the free witness `v` in lane 0 (no gate); returns its cell.
    pub fn push_witness(&mut self, v: Fr) -> Pos {
        let row = self.push_row();
        self.lanes[0][row] = v;
        Pos::Lane(0, row)
    }

    /// Appends one range-check row (limb `limb`, running sum `z`, gate coefficients); returns its index.
    pub fn push_rc(&mut self, limb: Fr, z: Fr, coeffs: [Fr; 4]) -> usize {
        self.rc.push(limb);
        self.rz.push(z);
        let [a, b, c, d] = coeffs;
        self.rc_coeffs.push([a, b, c, d, Fr::ZERO]);
        self.rc.len() - 1
    }

    /// Where each physical range column after the first starts in the logical rc sequence: for column
    /// `c`, the first check that starts at or after `c/n` of the rows (`n` = [`Layout::range_columns`]).
    /// A check's rows never straddle two columns.
    pub fn rc_splits(&self) -> Vec<usize> {
        let n = usize::from(self.range_columns.clamp(1, MAX_RANGE_COLUMNS));
        let len = self.rc.len();
        (1..n)
            .map(|c| {
                let target = (len * c).div_ceil(n);
                let at = self.rc_starts.partition_point(|&s| s < target);
                self.rc_starts.get(at).copied().unwrap_or(len)
            })
            .collect()
    }

    /// Physical column pair and row of logical rc row `i`, given [`Layout::rc_splits`].
    pub fn rc_place(splits: &[usize], i: usize) -> (usize, usize) {
        let col = splits.partition_point(|&s| s <= i);
        (col, i - if col == 0 { 0 } else { splits[col - 1] })
    }

    /// Rows the longest physical range column uses.
    pub fn rc_rows(&self) -> usize {
        let mut bounds = vec![0];
        bounds.extend(self.rc_splits());
        bounds.push(self.rc.len());
        bounds.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }

    /// Value of a cell. A second-phase cell has a value only given the challenges
    /// ([`Layout::phase2_values`]): here it reads as its override, or zero.
    pub fn get(&self, p: Pos) -> Fr {
        match p {
            Pos::Lane(c, r) => self.lanes[c][r],
            Pos::Rc(r) => self.rc[r],
            Pos::Rz(r) => self.rz[r],
            Pos::TabX(r) => self.tab_x[r],
            Pos::TabY(r) => self.tab_y[r],
            Pos::TabD(r) => self.tab_d[r],
            Pos::P2(..) => {
                self.p2_overrides.iter().rev().find(|(q, _)| *q == p).map_or(Fr::ZERO, |&(_, v)| v)
            }
        }
    }

    /// Overwrites a cell (tests use this to tamper with a witness).
    pub fn set(&mut self, p: Pos, v: Fr) {
        match p {
            Pos::Lane(c, r) => self.lanes[c][r] = v,
            Pos::Rc(r) => self.rc[r] = v,
            Pos::Rz(r) => self.rz[r] = v,
            Pos::TabX(r) => self.tab_x[r] = v,
            Pos::TabY(r) => self.tab_y[r] = v,
            Pos::TabD(r) => self.tab_d[r] = v,
            Pos::P2(..) => self.p2_overrides.push((p, v)),
        }
    }

    /// The second-phase columns for challenges `r` and `s`, row by row: operands copied from earlier
    /// combinations first, then each row's second-phase gate writes `p2_0` of the next row. Copies
    /// between second-phase cells that are not operands (the final equality of a Freivalds check) are
    /// constraints only. [`Layout::p2_overrides`] replace a cell as it is reached.
    pub fn phase2_values(&self, r: Fr, s: Fr) -> Vec<Vec<Fr>> {
        let n = self.main_rows();
        let mut p = vec![vec![Fr::ZERO; n]; P2_COLS];
        let mut feeds = std::collections::HashMap::new();
        for &(a, b) in &self.copies {
            for (to, from) in [(a, b), (b, a)] {
                if let (Pos::P2(1.., _), Pos::P2(0, _)) = (to, from) {
                    feeds.insert(to, from);
                }
            }
        }
        let on = |g: Gate, row: usize| self.selectors[g as usize][row];
        let (r8, s8) = (r.pow_vartime([RLC_WIDTH as u64]), s.pow_vartime([RLC_WIDTH as u64]));
        for row in 0..n {
            for col in 0..P2_COLS {
                if let Some(&Pos::P2(c, from)) = feeds.get(&Pos::P2(col, row)) {
                    p[col][row] = p[c][from];
                }
                for &(q, v) in &self.p2_overrides {
                    if q == Pos::P2(col, row) {
                        p[col][row] = v;
                    }
                }
            }
            let keep = self.consts[0][row];
            let next = if on(Gate::RlcR, row) || on(Gate::RlcS, row) {
                let (x, x8) = if on(Gate::RlcR, row) { (r, r8) } else { (s, s8) };
                let lanes = (0..RLC_WIDTH).fold(Fr::ZERO, |acc, i| acc * x + self.lanes[i][row]);
                Some(keep * x8 * p[0][row] + lanes)
            } else if on(Gate::Dot2, row) {
                Some(keep * p[0][row] + p[1][row] * p[2][row])
            } else if on(Gate::Horner2, row) {
                Some(keep * r * p[0][row] + p[1][row])
            } else {
                None
            };
            if let (Some(v), true) = (next, row + 1 < n) {
                p[0][row + 1] = v;
            }
        }
        p
    }

    /// Rows of the non-linear table columns: the all-zero row plus every table's entries.
    pub fn table_rows(&self) -> usize {
        1 + self.tables.iter().map(|t| t.entries()).sum::<usize>()
    }

    /// Smallest `k` whose usable rows hold the main region, the range column and the range table.
    pub fn k(&self) -> u32 {
        // Constants are placed by the floor planner after the region, so they count as rows too.
        let region = self.main_rows().max(self.rc_rows() + 1).max(self.tab_x.len());
        let need = (region + self.constants.len()).max(1usize << self.range_bits).max(self.table_rows())
            + RESERVED_ROWS;
        need.next_power_of_two().trailing_zeros().max(4)
    }
}
