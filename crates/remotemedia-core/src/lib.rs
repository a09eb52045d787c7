//! RemoteMedia engine core.
//!
//! A pipeline is a [`Manifest`] (JSON or YAML): nodes and the connections
//! between them. An [`Engine`] validates it against its [`Registry`] of node
//! types, builds the [`Graph`] (refusing cycles, which it names) and runs it,
//! either as a batch ([`Engine::run_batch`]) or as a live streaming
//! [`Session`] ([`Engine::open_session`]). A caller may supply some nodes
//! itself ([`Engine::compile_with`], see [`overrides`]) and run whole clips
//! rather than a stream ([`RunMode`]). Values are audio, JSON, text, bytes
//! and opaque foreign objects; audio may carry a typed [`Annotation`]
//! defined by the crate whose node made it (see [`annotation`]).
//!
//! ```
//! use remotemedia_core::{Engine, Manifest, RuntimeData};
//! use serde_json::json;
//!
//! let manifest = Manifest::from_json(r#"{
//!     "version": "v1",
//!     "nodes": [
//!         {"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
//!         {"id": "plus10", "node_type": "AddNode", "params": {"addend": 10}}
//!     ],
//!     "connections": [{"from": "double", "to": "plus10"}]
//! }"#).unwrap();
//! let engine = Engine::default();
//! let pipeline = engine.compile(manifest).unwrap();
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let out = rt.block_on(engine.run_batch(&pipeline, [RuntimeData::Json(json!([1, 2, 3]))])).unwrap();
//! assert_eq!(out[0].data, RuntimeData::Json(json!([12, 14, 16])));
//! ```
#![warn(missing_docs)]

pub mod annotation;
pub mod data;
pub mod document;
pub mod engine;
pub mod error;
pub mod executor;
pub mod graph;
pub mod join;
pub mod manifest;
pub mod manifest_compat;
pub mod metrics;
pub mod node;
pub mod nodes;
pub mod overrides;
pub mod panic;
pub mod params;
pub mod pipeline;
pub mod printable;
pub mod registry;
pub mod resilience;
pub mod sample_format;
mod set_aside;

pub use annotation::Annotation;
pub use data::{AudioData, OpaqueValue, RuntimeData, Samples, Shared};
pub use engine::{Engine, RunError};
pub use error::{EngineError, ErrorClass, ManifestError, NodeError, Problem};
pub use executor::{
    GraphRun, RunOptions, Session, SessionConfig, SessionReceiver, SessionSender, SinkOutput, TryRecv, TrySendError,
};
pub use graph::Graph;
pub use manifest::{BreakerConfig, Manifest, NodeSpec, OnFailure, RetryConfig};
pub use metrics::PipelineMetrics;
pub use node::Node;
pub use overrides::{Overrides, RunContext, RunMode};
pub use params::{NoParams, NodeParams, ParamError};
pub use pipeline::Pipeline;
pub use registry::{NodeType, Registry, Runtime, RuntimeHint};
pub use sample_format::{SampleFormat, UnknownSampleFormat};
