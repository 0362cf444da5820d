//! forge: turns declarative recipes into reproducible distroless OCI images.

pub mod cache;
pub mod debian;
pub mod fsentry;
pub mod lock;
