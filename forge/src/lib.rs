//! forge: turns declarative recipes into reproducible distroless OCI images.

pub mod build;
pub mod builders;
pub mod cache;
pub mod debian;
pub mod fsentry;
pub mod layer;
pub mod layer_store;
pub mod lock;
pub mod node;
pub mod oci;
pub mod project;
pub mod recipe;
pub mod report;
pub mod rootfs;
