//! Chips: functions that append rows for one op family to a [`super::layout::Layout`], computing their own
//! witness cells from the values `ir::eval` produced. The gates they rely on are declared in
//! [`super::circuit`]; each chip's doc comment gives its cell layout.

pub mod elementwise;
pub mod freivalds;
pub mod linear;
pub mod operands;
pub mod poseidon;
pub mod range;
pub mod table;
