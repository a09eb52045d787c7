//! The `remotemedia.v1` messages and services, generated from `proto/` at
//! build time (see `build.rs`).

#![allow(missing_docs, clippy::all)]

tonic::include_proto!("remotemedia.v1");

/// The encoded descriptor set of `proto/`, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("remotemedia_v1_descriptor");
