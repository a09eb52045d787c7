//! A compiled pipeline: a validated manifest, its graph and the resolved
//! implementation of every node. Built once, shared by every run and
//! session (it is immutable); each run instantiates its own nodes.

use std::sync::Arc;

use serde_json::Value;

use crate::error::ManifestError;
use crate::graph::Graph;
use crate::manifest::{Manifest, NodeSpec};
use crate::node::Node;
use crate::registry::{Implementation, Registry, RunContext, Runtime};
use crate::resilience::Policy;

/// A validated pipeline, ready to run any number of times.
#[derive(Debug)]
pub struct Pipeline {
    manifest: Manifest,
    graph: Graph,
    nodes: Vec<ResolvedNode>,
}

/// One node of a compiled pipeline.
pub(crate) struct ResolvedNode {
    pub(crate) id: Arc<str>,
    pub(crate) runtime: Runtime,
    implementation: Implementation,
    params: Value,
    policy: Policy,
}

impl std::fmt::Debug for ResolvedNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedNode")
            .field("id", &self.id)
            .field("runtime", &self.runtime)
            .finish()
    }
}

impl Pipeline {
    /// Validates `manifest` against `registry` and builds its graph.
    pub fn new(manifest: Manifest, registry: &Registry) -> Result<Self, ManifestError> {
        manifest.validate(registry)?;
        let graph = Graph::new(&manifest)?;
        let nodes = manifest
            .nodes
            .iter()
            .map(|spec| {
                let node_type = registry.get(&spec.node_type).expect("validated node type");
                let (runtime, implementation) = node_type.resolve(spec.runtime_hint).expect("validated hint");
                ResolvedNode {
                    id: Arc::from(spec.id.as_str()),
                    runtime,
                    implementation: implementation.clone(),
                    params: Value::Object(spec.params.clone()),
                    policy: Policy::from_spec(spec),
                }
            })
            .collect();
        Ok(Self { manifest, graph, nodes })
    }

    /// The manifest it was built from.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The spec of node `i` (manifest order).
    pub fn spec(&self, i: usize) -> &NodeSpec {
        &self.manifest.nodes[i]
    }

    /// Where node `i` runs.
    pub fn runtime(&self, i: usize) -> Runtime {
        self.nodes[i].runtime
    }

    /// Id of node `i`.
    pub fn node_id(&self, i: usize) -> &str {
        &self.nodes[i].id
    }

    pub(crate) fn shared_id(&self, i: usize) -> &Arc<str> {
        &self.nodes[i].id
    }

    pub(crate) fn policy(&self, i: usize) -> &Policy {
        &self.nodes[i].policy
    }

    /// True while the circuit breaker of node `i` is open. Breakers belong
    /// to the compiled pipeline, so every run and session sees the same one.
    pub fn breaker_open(&self, i: usize) -> bool {
        self.nodes[i].policy.breaker.is_open()
    }

    /// Builds a fresh instance of node `i` for the run whose context is
    /// `context`.
    pub(crate) fn build_node(&self, i: usize, context: &RunContext) -> Result<Box<dyn Node>, ManifestError> {
        let node = &self.nodes[i];
        node.implementation.build_in(&node.params, context).map_err(|p| {
            let path = if p.path.is_empty() {
                format!("nodes[{i}].params")
            } else {
                format!("nodes[{i}].params.{}", p.path)
            };
            ManifestError::problem(path, Some(&node.id), p.message)
        })
    }
}
