//! Helpers shared by the fuzz targets: the engine with every node type, and
//! the invariants a compile result must satisfy.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use remotemedia_core::{Engine, GraphRun, Manifest, ManifestError, Pipeline, Registry};

/// An engine whose registry holds every node type of this build (the
/// built-ins and the audio nodes), as the CLI has.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut registry = Registry::with_builtins();
        remotemedia_audio::register(&mut registry);
        Engine::new(registry)
    })
}

/// Compiles `manifest` and panics if the result breaks an invariant:
///
/// - on success, the graph has one entry per node, with the manifest's ids,
///   and its order is a permutation of the nodes that puts every
///   connection's `from` before its `to`, always taking the first-declared
///   ready node next;
/// - on failure, the error and each of its problems display as non-empty
///   text, and a cycle error names a simple closed walk, starting at its
///   first-declared node, whose consecutive pairs are connections.
pub fn compile_and_check(manifest: Manifest) -> Result<Arc<Pipeline>, ManifestError> {
    let ids: Vec<String> = manifest.nodes.iter().map(|n| n.id.clone()).collect();
    let edges: HashSet<(String, String)> = manifest
        .connections
        .iter()
        .map(|c| (c.from.clone(), c.to.clone()))
        .collect();
    let result = engine().compile(manifest);
    match &result {
        Ok(pipeline) => check_order(pipeline, &ids),
        Err(e) => check_error(e, &ids, &edges),
    }
    result
}

/// Instantiates every node of a compiled pipeline, as each run does: the
/// params passed validation, so building may refuse (with a message) but
/// must not panic.
pub fn instantiate(pipeline: &Arc<Pipeline>) {
    if let Err(e) = GraphRun::new(Arc::clone(pipeline)) {
        assert!(!e.to_string().is_empty(), "empty build error: {e:?}");
    }
}

fn check_order(pipeline: &Pipeline, ids: &[String]) {
    let graph = pipeline.graph();
    let n = ids.len();
    assert_eq!(graph.len(), n, "graph size");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(graph.id(i), id, "graph id {i}");
    }
    let order = graph.order();
    assert_eq!(order.len(), n, "order length");
    // Replays Kahn's algorithm along the order: each node taken must be the
    // smallest index whose predecessors have all been taken.
    let mut indegree: Vec<usize> = (0..n).map(|i| graph.predecessors(i).len()).collect();
    let mut taken = vec![false; n];
    for &i in order {
        assert!(i < n, "order names node {i} of {n}");
        assert!(!taken[i], "order takes node {i} twice");
        let first_ready = (0..n).find(|&j| !taken[j] && indegree[j] == 0);
        assert_eq!(first_ready, Some(i), "order takes {i}, not the first ready node");
        taken[i] = true;
        for &s in graph.successors(i) {
            assert!(!taken[s], "connection {i} -> {s} runs backwards");
            indegree[s] -= 1;
        }
    }
    for c in &pipeline.manifest().connections {
        let from = graph.index_of(&c.from).expect("connection source is a node");
        let to = graph.index_of(&c.to).expect("connection target is a node");
        assert!(graph.successors(from).contains(&to), "edge {from} -> {to} missing");
        assert!(graph.predecessors(to).contains(&from), "edge {to} <- {from} missing");
    }
}

fn check_error(e: &ManifestError, ids: &[String], edges: &HashSet<(String, String)>) {
    assert!(!e.to_string().is_empty(), "empty error message: {e:?}");
    let problems = e.problems();
    assert!(!problems.is_empty(), "an error with no problems: {e:?}");
    for p in &problems {
        assert!(!p.to_string().is_empty(), "empty problem: {p:?}");
        assert!(!p.message.is_empty(), "problem without a message: {p:?}");
    }
    if let ManifestError::Cycle(walk) = e {
        assert!(walk.len() >= 2, "cycle too short: {walk:?}");
        assert_eq!(walk.first(), walk.last(), "cycle not closed: {walk:?}");
        for pair in walk.windows(2) {
            let edge = (pair[0].clone(), pair[1].clone());
            assert!(
                edges.contains(&edge),
                "cycle step {edge:?} is not a connection: {walk:?}"
            );
        }
        let inner = &walk[..walk.len() - 1];
        let distinct: HashSet<&String> = inner.iter().collect();
        assert_eq!(distinct.len(), inner.len(), "cycle repeats a node: {walk:?}");
        let position = |id: &String| ids.iter().position(|x| x == id).expect("cycle names a node");
        let first = inner.iter().map(position).min();
        assert_eq!(
            first,
            Some(position(&walk[0])),
            "cycle does not start at its first node: {walk:?}"
        );
    }
}
