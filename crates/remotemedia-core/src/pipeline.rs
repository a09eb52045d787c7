//! A compiled pipeline: a validated manifest, its graph and the resolved
//! implementation of every node. Built once, shared by every run and
//! session (it is immutable); each run instantiates its own nodes.

use std::sync::Arc;

use serde_json::Value;

use crate::error::ManifestError;
use crate::graph::Graph;
use crate::manifest::{Manifest, NodeSpec};
use crate::node::Node;
use crate::registry::{Implementation, Registry, Runtime};

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

    pub(crate) fn resolved(&self, i: usize) -> &ResolvedNode {
        &self.nodes[i]
    }

    /// Builds a fresh instance of node `i`.
    pub(crate) fn build_node(&self, i: usize) -> Result<Box<dyn Node>, ManifestError> {
        let node = &self.nodes[i];
        node.implementation.build(&node.params).map_err(|p| {
            let path = if p.path.is_empty() {
                format!("nodes[{i}].params")
            } else {
                format!("nodes[{i}].params.{}", p.path)
            };
            ManifestError::problem(path, Some(&node.id), p.message)
        })
    }
}
