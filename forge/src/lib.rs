//! forge: turns declarative recipes into reproducible distroless OCI images.

pub mod fsentry;
