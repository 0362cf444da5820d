//! forge: turns declarative recipes into reproducible distroless OCI images.

pub mod atomic;
pub mod build;
pub mod builders;
pub mod cache;
pub mod debian;
pub mod deploy;
pub mod fsentry;
pub mod image_fs;
pub mod layer;
pub mod layer_store;
pub mod lock;
pub mod node;
pub mod oci;
pub mod opslog;
pub mod pin;
pub mod policy;
pub mod project;
pub mod promote;
pub mod publish;
pub mod recipe;
pub mod report;
pub mod rootfs;
pub mod sbom;
pub mod scan;
pub mod supply_chain;
