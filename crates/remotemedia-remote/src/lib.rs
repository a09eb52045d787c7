//! Remote execution over gRPC, wire-compatible with the `remotemedia.v1`
//! protocol of the earlier RemoteMedia runtime.
//!
//! [`Server`] serves `PipelineExecutionService` (unary runs, version),
//! `StreamingPipelineService` (one live session per bidirectional stream),
//! `grpc.health.v1` and reflection. The `.proto` files are in `proto/`,
//! compiled at build time with `protox` (no system `protoc`).
//!
//! [`RemotePipelineNode`] (registered by [`register`]) runs a pipeline on
//! such servers from inside a local one, failing over between them;
//! [`Client`] calls one from Rust.

pub mod audio_codec;
pub mod auth;
pub mod catalog;
pub mod client;
pub mod endpoint_pool;
pub mod execution_service;
pub mod limits;
pub mod manifest_codec;
pub mod outputs;
pub mod proto;
pub mod remote_node;
pub mod server;
pub mod state;
pub mod streaming_service;
pub mod wire_error;

pub use client::{Client, ClientError, ClientOptions};
pub use limits::Limits;
pub use remote_node::{RemoteParams, RemotePipelineNode, register};
pub use server::{ServeError, Server, ServerConfig};
pub use wire_error::{WireError, WireErrorKind};
