//! forge: turns declarative recipes into reproducible distroless OCI images.

pub mod atomic;
pub mod build;
pub mod cache;
pub mod debian;
pub mod deploy;
pub mod fsentry;
pub mod layer;
pub mod layer_store;
pub mod lock;
pub mod oci;
pub mod opslog;
pub mod pin;
pub mod project;
pub mod promote;
pub mod publish;
pub mod recipe;
pub mod report;
pub mod rootfs;
