//! A compiled pipeline: a validated manifest, its graph and the resolved
//! implementation of every node (from the registry, or a caller's
//! [`Overrides`]). Built once, shared by every run and session (it is
//! immutable, and holds each node's circuit breaker); each run
//! instantiates its own nodes.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use crate::error::ManifestError;
use crate::executor::Clip;
use crate::graph::Graph;
use crate::manifest::{Manifest, NodeSpec};
use crate::node::Node;
use crate::overrides::{Factory, Overrides, RunContext, RunMode};
use crate::registry::{Implementation, Registry, Runtime};
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
    build: Build,
    policy: Policy,
}

/// How a node's instances are made.
enum Build {
    /// By the registry's implementation, from the manifest's params.
    Registry(Implementation, Value),
    /// By a caller's factory.
    Override(Arc<Factory>),
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
    /// Validates `manifest` against `registry` and builds its graph; the
    /// nodes named in `overrides` are built by their factories instead (an
    /// override of an id the manifest does not have is refused).
    pub fn new(manifest: Manifest, registry: &Registry, overrides: &Overrides) -> Result<Self, ManifestError> {
        let overridden: BTreeSet<&str> = overrides.ids().collect();
        if let Some(id) = overridden
            .iter()
            .find(|id| !manifest.nodes.iter().any(|n| n.id == **id))
        {
            return Err(ManifestError::problem(
                "nodes",
                None,
                format!("an override was given for node {id:?}, which the manifest does not have"),
            ));
        }
        manifest.validate_except(registry, &overridden)?;
        let graph = Graph::new(&manifest)?;
        let nodes = manifest
            .nodes
            .iter()
            .map(|spec| {
                let (runtime, build) = match overrides.get(&spec.id) {
                    Some(o) => (o.runtime, Build::Override(Arc::clone(&o.factory))),
                    None => {
                        let node_type = registry.get(&spec.node_type).expect("validated node type");
                        let (runtime, implementation) = node_type.resolve(spec.runtime_hint).expect("validated hint");
                        let params = Value::Object(spec.params.clone());
                        (runtime, Build::Registry(implementation.clone(), params))
                    }
                };
                ResolvedNode {
                    id: Arc::from(spec.id.as_str()),
                    runtime,
                    build,
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
    /// `context` (in [`RunMode::Clips`], a native node is run a whole clip
    /// per call).
    pub(crate) fn build_node(&self, i: usize, context: &RunContext) -> Result<Box<dyn Node>, ManifestError> {
        let node = &self.nodes[i];
        let built = match &node.build {
            Build::Registry(implementation, params) => implementation.build(params).map_err(|p| {
                let path = if p.path.is_empty() {
                    format!("nodes[{i}].params")
                } else {
                    format!("nodes[{i}].params.{}", p.path)
                };
                ManifestError::problem(path, Some(&node.id), p.message)
            })?,
            Build::Override(factory) => {
                factory(context).map_err(|m| ManifestError::problem(format!("nodes[{i}]"), Some(&node.id), m))?
            }
        };
        Ok(match (context.mode(), node.runtime) {
            (RunMode::Clips, Runtime::Native) => Box::new(Clip::new(built)),
            _ => built,
        })
    }
}
