//! One file per subcommand group: each parses its arguments (clap), calls the `poai` library facade, and
//! prints the result as text or JSON. No workflow logic lives here.

pub mod check;
pub mod dataset;
pub mod evm;
pub mod keys;
pub mod model;
pub mod prove;
