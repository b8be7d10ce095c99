//! The halo2 circuit: column configuration, gates, the range lookup, and `synthesize`, which copies a
//! precomputed [`Layout`] into one region.

use std::sync::Arc;

use halo2_base::halo2_proofs::circuit::{Cell, Layouter, SimpleFloorPlanner, Value};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::plonk::{
    Advice, Challenge, Circuit, Column, ConstraintSystem, Error, Expression, FirstPhase, Fixed, Instance,
    SecondPhase, Selector, TableColumn, VirtualCells,
};
use halo2_base::halo2_proofs::poly::Rotation;

use super::chips::gate::GateColumns;
use super::chips::{elementwise, freivalds, linear, poseidon, range, table};
use super::dataset;
use super::layout::{
    fe, CircuitShape, Gate, Layout, Pos, BLOCK_INPUTS, CONSTS, GATES, LANES, MAX_RANGE_COLUMNS, P2_COLS,
};

/// Columns and selectors of the poai circuit.
#[derive(Clone, Debug)]
pub struct PoaiConfig {
    lanes: [Column<Advice>; LANES],
    /// The first [`CircuitShape::weight_columns`] weight columns (the gates read no others).
    weights: Vec<Column<Fixed>>,
    consts: [Column<Fixed>; CONSTS],
    selectors: [Option<Selector>; GATES],
    range: Vec<RangeColumns>,
    range_table: TableColumn,
    tables: Option<TableColumns>,
    phase2: Option<Phase2Columns>,
    instance: Column<Instance>,
}

impl PoaiConfig {
    /// The main-region lane that halo2's advice column `column` is, if it is one.
    pub(crate) fn lane(&self, column: usize) -> Option<usize> {
        self.lanes.iter().position(|c| c.index() == column)
    }

    /// The value of halo2's fixed column `column` at `row`, if it is a weight or constant column of the
    /// main region.
    pub(crate) fn main_fixed(&self, l: &Layout, column: usize, row: usize) -> Option<Fr> {
        if let Some(j) = self.weights.iter().position(|c| c.index() == column) {
            return l.weights.get(j)?.get(row).copied();
        }
        let j = self.consts.iter().position(|c| c.index() == column)?;
        l.consts.get(j)?.get(row).copied()
    }

    /// The gate (index into [`Gate`]) whose selector has halo2's index `selector`.
    pub(crate) fn gate_of(&self, selector: usize) -> Option<usize> {
        self.selectors.iter().position(|s| s.is_some_and(|s| s.index() == selector))
    }
}

/// Second-phase columns and the challenges their gates use (present only in circuits with a Freivalds
/// check).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Phase2Columns {
    /// Accumulator and the two factors.
    pub(crate) cols: [Column<Advice>; P2_COLS],
    /// Challenge of the Horner sum and of the combinations in `r`.
    pub(crate) r: Challenge,
    /// Challenge of the combinations in `s`.
    pub(crate) s: Challenge,
}

/// One physical range-check column pair: limbs (looked up), running sums, and the gate's coefficients.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RangeColumns {
    /// Limbs (looked up).
    pub(crate) rc: Column<Advice>,
    /// Running sums.
    pub(crate) rz: Column<Advice>,
    /// The decomposition gate's coefficients.
    pub(crate) coeffs: [Column<Fixed>; 5],
}

/// Columns of the non-linear table lookup (present only in circuits that use a table).
#[derive(Clone, Debug)]
struct TableColumns {
    tab_tag: Column<Fixed>,
    tab_x: Column<Advice>,
    tab_y: Column<Advice>,
    /// Slopes, where some table interpolates.
    tab_d: Option<Column<Advice>>,
    /// Tag, index, entry and (with `tab_d`) slope.
    table: Vec<TableColumn>,
}

/// A model circuit: its whole assignment, shared so that cloning for key generation is cheap.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    /// The assignment table.
    pub layout: Arc<Layout>,
    shape: CircuitShape,
}

impl ModelCircuit {
    /// Wraps a layout.
    pub fn new(layout: Layout) -> Self {
        let shape = layout.shape();
        Self { layout: Arc::new(layout), shape }
    }

    /// The gates and lookups this circuit's configuration contains.
    pub fn shape(&self) -> CircuitShape {
        self.shape
    }

    /// Public instances (one column).
    pub fn instances(&self) -> Vec<Vec<Fr>> {
        vec![self.layout.instance.clone()]
    }
}

/// Declares a gate under its selector, if the circuit's shape has that selector.
fn gate(
    meta: &mut ConstraintSystem<Fr>,
    selectors: &[Option<Selector>; GATES],
    g: Gate,
    name: &'static str,
    constraints: impl FnOnce(&mut VirtualCells<'_, Fr>, Expression<Fr>) -> Vec<Expression<Fr>>,
) {
    if let Some(s) = selectors[g as usize] {
        meta.create_gate(name, |m| {
            let q = m.query_selector(s);
            constraints(m, q)
        });
    }
}

impl Circuit<Fr> for ModelCircuit {
    type Config = PoaiConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitShape;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn params(&self) -> CircuitShape {
        self.shape
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> PoaiConfig {
        Self::configure_with_params(meta, CircuitShape::default())
    }

    /// Only the gates (and the table lookup) `shape` names are configured: a circuit, its keys and its
    /// verifier carry no constraint the model does not use.
    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: CircuitShape) -> PoaiConfig {
        let lanes = [(); LANES].map(|_| meta.advice_column());
        let weights: Vec<Column<Fixed>> = (0..shape.weight_columns()).map(|_| meta.fixed_column()).collect();
        let consts = [(); CONSTS].map(|_| meta.fixed_column());
        let selectors: [Option<Selector>; GATES] =
            std::array::from_fn(|g| shape.uses(g).then(|| meta.selector()));
        let range: Vec<RangeColumns> = (0..shape.range_columns.clamp(1, MAX_RANGE_COLUMNS))
            .map(|_| RangeColumns {
                rc: meta.advice_column(),
                rz: meta.advice_column(),
                coeffs: [(); 5].map(|_| meta.fixed_column()),
            })
            .collect();
        let range_table = meta.lookup_table_column();
        let tables = shape.tables.then(|| {
            let t = TableColumns {
                tab_tag: meta.fixed_column(),
                tab_x: meta.advice_column(),
                tab_y: meta.advice_column(),
                tab_d: shape.slopes.then(|| meta.advice_column()),
                table: (0..3 + usize::from(shape.slopes)).map(|_| meta.lookup_table_column()).collect(),
            };
            meta.enable_equality(t.tab_x);
            meta.enable_equality(t.tab_y);
            if let Some(d) = t.tab_d {
                meta.enable_equality(d);
            }
            t
        });
        let phase2 = shape.phase2().then(|| {
            let cols = [(); P2_COLS].map(|_| meta.advice_column_in(SecondPhase));
            for c in cols {
                meta.enable_equality(c);
            }
            let [r, s] = [(); 2].map(|_| meta.challenge_usable_after(FirstPhase));
            Phase2Columns { cols, r, s }
        });
        let constants = meta.fixed_column();
        let instance = meta.instance_column();
        meta.enable_constant(constants);
        meta.enable_equality(instance);
        for r in &range {
            meta.enable_equality(r.rz);
        }
        for l in lanes {
            meta.enable_equality(l);
        }

        // Each gate's polynomial lives beside the chip that assigns its rows. The order below is part of
        // every verifying key (halo2 hashes the constraint system): append, never reorder.
        let c = GateColumns { lanes, weights: weights.clone(), consts };
        gate(meta, &selectors, Gate::MvInit, "mat-vec init", |m, q| linear::mv_init_gate(&c, m, q));
        gate(meta, &selectors, Gate::Mv, "mat-vec step", |m, q| linear::mat_vec_gate(&c, m, q, false));
        gate(meta, &selectors, Gate::MvFirst, "mat-vec first step", |m, q| {
            linear::mat_vec_gate(&c, m, q, true)
        });
        gate(meta, &selectors, Gate::Dot, "dot-product step", |m, q| linear::dot_gate(&c, m, q));
        for i in 1..=BLOCK_INPUTS {
            let Some(g) = Gate::dot_block(i) else { continue };
            gate(meta, &selectors, g, "shared-weight dot step", |m, q| linear::dot_block_gate(&c, m, q, i));
        }
        gate(meta, &selectors, Gate::Rescale, "rescale", |m, q| elementwise::rescale_gate(&c, m, q));
        gate(meta, &selectors, Gate::Interp, "interpolated lookup", |m, q| table::interp_gate(&c, m, q));
        gate(meta, &selectors, Gate::Relu, "relu", |m, q| elementwise::relu_gate(&c, m, q));
        gate(meta, &selectors, Gate::Max2, "max2", |m, q| elementwise::max2_gate(&c, m, q));
        gate(meta, &selectors, Gate::Arith, "arith", |m, q| elementwise::arith_gate(&c, m, q));
        gate(meta, &selectors, Gate::Div, "divide", |m, q| elementwise::div_gate(&c, m, q));
        gate(meta, &selectors, Gate::VarDiv, "divide by a witness", |m, q| {
            elementwise::var_div_gate(&c, m, q)
        });
        gate(meta, &selectors, Gate::Sqrt, "square root", |m, q| elementwise::sqrt_gate(&c, m, q));
        gate(meta, &selectors, Gate::Affine, "affine", |m, q| elementwise::affine_gate(&c, m, q));
        gate(meta, &selectors, Gate::Pack, "pack", |m, q| poseidon::pack_gate(&c, m, q));
        gate(meta, &selectors, Gate::Absorb, "absorb", |m, q| poseidon::absorb_gate(&c, m, q));
        gate(meta, &selectors, Gate::PoseidonFull, "poseidon full round", |m, q| {
            poseidon::full_round_gate(&c, m, q)
        });
        gate(meta, &selectors, Gate::PoseidonPartial, "poseidon partial rounds", |m, q| {
            poseidon::partial_rounds_gate(&c, m, q)
        });
        gate(meta, &selectors, Gate::Swap, "merkle swap", |m, q| dataset::swap_gate(&c, m, q));
        if let Some(p2) = &phase2 {
            for (g, x, name) in
                [(Gate::RlcR, p2.r, "combination in r"), (Gate::RlcS, p2.s, "combination in s")]
            {
                gate(meta, &selectors, g, name, |m, q| freivalds::combination_gate(&c, p2, x, m, q));
            }
            gate(meta, &selectors, Gate::Dot2, "second-phase dot step", |m, q| {
                freivalds::dot2_gate(&c, p2, m, q)
            });
            gate(meta, &selectors, Gate::Horner2, "second-phase Horner step", |m, q| {
                freivalds::horner2_gate(&c, p2, m, q)
            });
        }
        for r in &range {
            meta.create_gate("range decomposition", |m| range::decomposition_gate(r, m));
            meta.lookup("range", |m| vec![(m.query_advice(r.rc, Rotation::cur()), range_table)]);
        }
        if let Some(t) = &tables {
            meta.lookup("non-linear tables", |m| {
                let mut inputs = vec![
                    m.query_fixed(t.tab_tag, Rotation::cur()),
                    m.query_advice(t.tab_x, Rotation::cur()),
                    m.query_advice(t.tab_y, Rotation::cur()),
                ];
                inputs.extend(t.tab_d.map(|d| m.query_advice(d, Rotation::cur())));
                inputs.into_iter().zip(t.table.iter().copied()).collect()
            });
        }
        PoaiConfig { lanes, weights, consts, selectors, range, range_table, tables, phase2, instance }
    }

    fn synthesize(&self, c: PoaiConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let l = &self.layout;
        layouter.assign_table(
            || "range table",
            |mut t| {
                for i in 0..(1usize << l.range_bits) {
                    t.assign_cell(|| "", c.range_table, i, || Value::known(Fr::from(i as u64)))?;
                }
                Ok(())
            },
        )?;
        if let Some(t) = &c.tables {
            layouter.assign_table(
                || "non-linear tables",
                |mut table| {
                    let mut row = 0;
                    // Zipping with the configured columns drops the slope where there is no slope column.
                    let mut put = |table: &mut halo2_base::halo2_proofs::circuit::Table<'_, Fr>,
                                   vals: [Fr; 4]|
                     -> Result<(), Error> {
                        for (col, v) in t.table.iter().zip(vals) {
                            table.assign_cell(|| "", *col, row, || Value::known(v))?;
                        }
                        row += 1;
                        Ok(())
                    };
                    put(&mut table, [Fr::ZERO; 4])?;
                    for (i, spec) in l.tables.iter().enumerate() {
                        let tag = Fr::from(i as u64 + 1);
                        for (q, y, d) in spec.rows() {
                            put(&mut table, [tag, fe(q), fe(y), fe(d)])?;
                        }
                    }
                    Ok(())
                },
            )?;
        } else if !l.tables.is_empty() || !l.tab_x.is_empty() {
            return Err(Error::Synthesis);
        }
        let instance_cells = layouter.assign_region(
            || "model",
            |mut region| {
                let mut lane_cells: Vec<Vec<Cell>> = Vec::with_capacity(LANES);
                for (col, values) in c.lanes.iter().zip(&l.lanes) {
                    lane_cells.push(
                        values
                            .iter()
                            .enumerate()
                            .map(|(r, v)| region.assign_advice(*col, r, Value::known(*v)).cell())
                            .collect(),
                    );
                }
                // Logical rc row i lives in physical pair `rc_place(i)`; the shape fixed how many exist.
                if usize::from(l.range_columns.clamp(1, MAX_RANGE_COLUMNS)) != c.range.len() {
                    return Err(Error::Synthesis);
                }
                let splits = l.rc_splits();
                let mut rz_cells: Vec<Cell> = Vec::with_capacity(l.rz.len());
                for (i, ((z, limb), coeffs)) in l.rz.iter().zip(&l.rc).zip(&l.rc_coeffs).enumerate() {
                    let (col, r) = Layout::rc_place(&splits, i);
                    let cols = c.range.get(col).ok_or(Error::Synthesis)?;
                    rz_cells.push(region.assign_advice(cols.rz, r, Value::known(*z)).cell());
                    region.assign_advice(cols.rc, r, Value::known(*limb));
                    for (f, v) in cols.coeffs.iter().zip(coeffs).filter(|(_, v)| !bool::from(v.is_zero())) {
                        region.assign_fixed(*f, r, *v);
                    }
                }
                // A weight column the shape left out must be empty.
                if l.weights.iter().skip(c.weights.len()).any(|w| w.iter().any(|v| !bool::from(v.is_zero())))
                {
                    return Err(Error::Synthesis);
                }
                for (col, values) in c.weights.iter().zip(&l.weights).chain(c.consts.iter().zip(&l.consts)) {
                    for (r, v) in values.iter().enumerate().filter(|(_, v)| !bool::from(v.is_zero())) {
                        region.assign_fixed(*col, r, *v);
                    }
                }
                for (sel, on) in c.selectors.iter().zip(&l.selectors) {
                    let mut rows = on.iter().enumerate().filter(|(_, &b)| b).map(|(r, _)| r).peekable();
                    match sel {
                        Some(sel) => {
                            for r in rows {
                                sel.enable(&mut region, r)?;
                            }
                        }
                        // A gate the shape left out must have no rows.
                        None if rows.peek().is_some() => return Err(Error::Synthesis),
                        None => {}
                    }
                }
                let (mut tab_x_cells, mut tab_y_cells, mut tab_d_cells) =
                    (Vec::new(), Vec::new(), Vec::new());
                if let Some(t) = &c.tables {
                    for (r, ((x, y), tag)) in l.tab_x.iter().zip(&l.tab_y).zip(&l.tab_tag).enumerate() {
                        tab_x_cells.push(region.assign_advice(t.tab_x, r, Value::known(*x)).cell());
                        tab_y_cells.push(region.assign_advice(t.tab_y, r, Value::known(*y)).cell());
                        region.assign_fixed(t.tab_tag, r, *tag);
                    }
                    if let Some(col) = t.tab_d {
                        for (r, d) in l.tab_d.iter().enumerate() {
                            tab_d_cells.push(region.assign_advice(col, r, Value::known(*d)).cell());
                        }
                    }
                }
                // Second-phase values exist once the challenges are drawn; before (key generation, the
                // first-phase pass of the prover) the cells hold zeros, overwritten in the second pass.
                let mut p2_cells: Vec<Vec<Cell>> = Vec::new();
                if let Some(p2) = &c.phase2 {
                    let mut values = None;
                    let _ = region
                        .get_challenge(p2.r)
                        .zip(region.get_challenge(p2.s))
                        .map(|(r, s)| values = Some(l.phase2_values(r, s)));
                    for (i, col) in p2.cols.iter().enumerate() {
                        p2_cells.push(
                            (0..l.main_rows())
                                .map(|r| {
                                    let v = values.as_ref().map_or(Fr::ZERO, |v| v[i][r]);
                                    region.assign_advice(*col, r, Value::known(v)).cell()
                                })
                                .collect(),
                        );
                    }
                }
                let cell = |p: Pos| -> Result<Cell, Error> {
                    match p {
                        Pos::Lane(col, r) => lane_cells.get(col).and_then(|c| c.get(r)).copied(),
                        Pos::Rz(r) => rz_cells.get(r).copied(),
                        Pos::Rc(_) => None,
                        Pos::TabX(r) => tab_x_cells.get(r).copied(),
                        Pos::TabY(r) => tab_y_cells.get(r).copied(),
                        Pos::TabD(r) => tab_d_cells.get(r).copied(),
                        Pos::P2(col, r) => p2_cells.get(col).and_then(|c| c.get(r)).copied(),
                    }
                    .ok_or(Error::Synthesis)
                };
                for &(a, b) in &l.copies {
                    region.constrain_equal(cell(a)?, cell(b)?);
                }
                for &(p, v) in &l.constants {
                    region.constrain_constant(cell(p)?, v)?;
                }
                l.instance_cells.iter().map(|&(p, i)| Ok((cell(p)?, i))).collect::<Result<Vec<_>, Error>>()
            },
        )?;
        for (cell, i) in instance_cells {
            layouter.constrain_instance(cell, c.instance, i);
        }
        Ok(())
    }
}
