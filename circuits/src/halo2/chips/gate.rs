//! What a chip's gate polynomials are written with: the main region's columns ([`GateColumns`]), queried
//! at the current row by named lane, and small constants. Each chip file declares its gates next to the
//! functions that assign their rows, over the same named lanes; `circuit::configure_with_params` only
//! lists them in their issued order (the order is part of every verifying key).

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Advice, Column, Expression, Fixed, VirtualCells};
use halo2_base::halo2_proofs::poly::Rotation;

use crate::halo2::layout::{CONSTS, LANES};

/// The main region's columns, as gate polynomials read them.
#[derive(Clone, Debug)]
pub(crate) struct GateColumns {
    /// Advice lanes.
    pub lanes: [Column<Advice>; LANES],
    /// Fixed weight columns (those the circuit's shape configures).
    pub weights: Vec<Column<Fixed>>,
    /// Fixed per-row constants.
    pub consts: [Column<Fixed>; CONSTS],
}

impl GateColumns {
    /// Lanes `ids` at the current row.
    pub fn lanes<const N: usize>(
        &self,
        m: &mut VirtualCells<'_, Fr>,
        ids: [usize; N],
    ) -> [Expression<Fr>; N] {
        ids.map(|i| m.query_advice(self.lanes[i], Rotation::cur()))
    }

    /// Lane `i` at `rotation`.
    pub fn lane_at(&self, m: &mut VirtualCells<'_, Fr>, i: usize, rotation: Rotation) -> Expression<Fr> {
        m.query_advice(self.lanes[i], rotation)
    }

    /// Constant columns `ids` at the current row.
    pub fn consts<const N: usize>(
        &self,
        m: &mut VirtualCells<'_, Fr>,
        ids: [usize; N],
    ) -> [Expression<Fr>; N] {
        ids.map(|i| m.query_fixed(self.consts[i], Rotation::cur()))
    }

    /// Weight column `i` at the current row.
    pub fn weight(&self, m: &mut VirtualCells<'_, Fr>, i: usize) -> Expression<Fr> {
        m.query_fixed(self.weights[i], Rotation::cur())
    }
}

/// The constant `v` as an expression.
pub(crate) fn constant(v: u64) -> Expression<Fr> {
    Expression::Constant(Fr::from(v))
}
