//! forge: turns declarative recipes into reproducible distroless OCI images.

pub mod atomic;
pub mod cli;
pub mod deploy;
pub mod fsentry;
pub mod opslog;
pub mod pin;
pub mod promote;
pub mod publish;
