//! forge: turns declarative recipes into reproducible distroless OCI images.

pub mod fsentry;
pub mod image_fs;
pub mod sbom;
pub mod policy;
pub mod scan;
