//! Chips: functions that append rows for one op family to a [`super::layout::Layout`], computing their own
//! witness cells from the values `ir::eval` produced, and the gates (polynomials over named lanes) those
//! rows satisfy, declared beside them (module `gate` has the columns they read). Each chip's doc comment gives
//! its cell layout and why every witness it computes is unique.

pub mod elementwise;
pub mod freivalds;
pub(crate) mod gate;
pub mod linear;
pub mod nn;
pub mod one_hot;
pub mod operands;
pub mod poseidon;
pub mod range;
pub mod table;
