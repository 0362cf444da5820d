//! The command line: one file per subcommand, each with its clap arguments and a `run`.

pub mod delivery;
pub mod deploy;
pub mod load;
pub mod pin;
pub mod promote;
pub mod push;
