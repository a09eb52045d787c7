//! The pipeline graph: nodes, edges and a deterministic topological order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::error::ManifestError;
use crate::manifest::Manifest;

/// Nodes (by index into the manifest's node list) and the edges between them.
///
/// The topological order is Kahn's algorithm with the manifest position as
/// tie-break: among the nodes ready to run, the one declared first goes
/// first. The same manifest therefore gives the same order on every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    ids: Vec<String>,
    successors: Vec<Vec<usize>>,
    predecessors: Vec<Vec<usize>>,
    order: Vec<usize>,
}

impl Graph {
    /// Builds the graph of a manifest whose ids and connections are valid
    /// (see [`Manifest::validate`]); refuses cycles, naming one in order.
    pub fn new(manifest: &Manifest) -> Result<Self, ManifestError> {
        let ids: Vec<String> = manifest.nodes.iter().map(|n| n.id.clone()).collect();
        let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let mut successors = vec![Vec::new(); ids.len()];
        let mut predecessors = vec![Vec::new(); ids.len()];
        for (i, c) in manifest.connections.iter().enumerate() {
            let missing = |field: &str, id: &str| {
                ManifestError::problem(
                    format!("connections[{i}].{field}"),
                    None,
                    format!("unknown node \"{id}\""),
                )
            };
            let from = *index.get(c.from.as_str()).ok_or_else(|| missing("from", &c.from))?;
            let to = *index.get(c.to.as_str()).ok_or_else(|| missing("to", &c.to))?;
            successors[from].push(to);
            predecessors[to].push(from);
        }
        let order = topological_order(&successors, &predecessors)
            .map_err(|cycle| ManifestError::Cycle(cycle.iter().map(|&i| ids[i].clone()).collect()))?;
        Ok(Self {
            ids,
            successors,
            predecessors,
            order,
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Node id of index `i`.
    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    /// Index of the node with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|x| x == id)
    }

    /// Node indices in execution order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Downstream nodes of `i`, in connection order.
    pub fn successors(&self, i: usize) -> &[usize] {
        &self.successors[i]
    }

    /// Upstream nodes of `i`, in connection order.
    pub fn predecessors(&self, i: usize) -> &[usize] {
        &self.predecessors[i]
    }

    /// Nodes with no incoming edge, in execution order.
    pub fn sources(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().copied().filter(|&i| self.predecessors[i].is_empty())
    }

    /// Nodes with no outgoing edge, in execution order.
    pub fn sinks(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().copied().filter(|&i| self.successors[i].is_empty())
    }
}

/// Kahn's algorithm with a min-heap on the node index; on failure returns one
/// cycle as a closed walk (`[a, b, a]`).
fn topological_order(successors: &[Vec<usize>], predecessors: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = successors.len();
    let mut indegree: Vec<usize> = predecessors.iter().map(Vec::len).collect();
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &s in &successors[i] {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                ready.push(Reverse(s));
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every node left has an unvisited predecessor, so walking backwards
    // from the first one must revisit a node: that closes a cycle.
    let start = (0..n).find(|&i| indegree[i] > 0).expect("a node is left over");
    let mut position = vec![usize::MAX; n];
    let mut walk = Vec::new();
    let mut at = start;
    while position[at] == usize::MAX {
        position[at] = walk.len();
        walk.push(at);
        at = *predecessors[at]
            .iter()
            .filter(|&&p| indegree[p] > 0)
            .min()
            .expect("a left-over node has a left-over predecessor");
    }
    let mut cycle: Vec<usize> = walk[position[at]..].to_vec();
    cycle.reverse();
    // Start the cycle at its first-declared node so the message is stable.
    let first = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
    cycle.rotate_left(first);
    cycle.push(cycle[0]);
    Err(cycle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(nodes: &[&str], edges: &[(&str, &str)]) -> Manifest {
        let nodes: Vec<_> = nodes
            .iter()
            .map(|id| serde_json::json!({"id": id, "node_type": "PassThroughNode"}))
            .collect();
        let connections: Vec<_> = edges
            .iter()
            .map(|(f, t)| serde_json::json!({"from": f, "to": t}))
            .collect();
        Manifest::from_value(serde_json::json!({"version": "v1", "nodes": nodes, "connections": connections})).unwrap()
    }

    fn order_ids(g: &Graph) -> Vec<&str> {
        g.order().iter().map(|&i| g.id(i)).collect()
    }

    #[test]
    fn chain_order() {
        let g = Graph::new(&manifest(&["c", "b", "a"], &[("a", "b"), ("b", "c")])).unwrap();
        assert_eq!(order_ids(&g), ["a", "b", "c"]);
        assert_eq!(g.sources().collect::<Vec<_>>(), [2]);
        assert_eq!(g.sinks().collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn diamond_is_stable() {
        let m = manifest(
            &["src", "right", "left", "join"],
            &[("src", "left"), ("src", "right"), ("left", "join"), ("right", "join")],
        );
        let g = Graph::new(&m).unwrap();
        assert_eq!(order_ids(&g), ["src", "right", "left", "join"]);
        for _ in 0..10 {
            assert_eq!(Graph::new(&m).unwrap(), g);
        }
    }

    #[test]
    fn names_cycles_in_order() {
        let err = Graph::new(&manifest(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "b")])).unwrap_err();
        assert_eq!(err.to_string(), "cycle: b -> c -> b");
        let err = Graph::new(&manifest(&["x", "a", "b"], &[("a", "b"), ("b", "a")])).unwrap_err();
        assert_eq!(err.to_string(), "cycle: a -> b -> a");
        let err = Graph::new(&manifest(&["a", "b", "c"], &[("a", "b"), ("b", "c"), ("c", "a")])).unwrap_err();
        assert_eq!(err.to_string(), "cycle: a -> b -> c -> a");
    }

    #[test]
    fn names_self_loops() {
        let err = Graph::new(&manifest(&["a", "b"], &[("a", "b"), ("b", "b")])).unwrap_err();
        assert_eq!(err.to_string(), "cycle: b -> b");
    }

    #[test]
    fn node_reachable_from_cycle_is_not_named() {
        let err = Graph::new(&manifest(
            &["a", "b", "c", "d"],
            &[("a", "b"), ("b", "a"), ("b", "c"), ("c", "d")],
        ))
        .unwrap_err();
        assert_eq!(err.to_string(), "cycle: a -> b -> a");
    }
}
