//! Manifests built from structured data: ids from a small pool (so they
//! collide and connections find them), node types drawn from the registry,
//! random connections (cycles and self-loops included). The outcome of
//! compiling is predicted independently and must match.

#![no_main]

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use remotemedia_core::manifest::{Connection, MAX_ID_BYTES, MAX_TIMEOUT_MS, Metadata};
use remotemedia_core::printable::is_unsafe;
use remotemedia_core::{Manifest, ManifestError, NodeSpec, RuntimeHint};
use remotemedia_fuzz::{compile_and_check, engine, instantiate};
use serde_json::{Map, Value};

#[derive(Debug, Arbitrary)]
struct Input {
    nodes: Vec<NodeIn>,
    connections: Vec<(End, End)>,
}

#[derive(Debug, Arbitrary)]
struct NodeIn {
    id: Id,
    node_type: u8,
    hint: u8,
    params: Vec<(Key, ParamValue)>,
    timeout_ms: Option<u8>,
}

#[derive(Debug, Arbitrary)]
enum Id {
    Pool(u8),
    Blank(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum End {
    Node(u8),
    Id(Id),
}

#[derive(Debug, Arbitrary)]
enum Key {
    Known(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum ParamValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Array(Vec<i32>),
}

/// Node type names: every registered name and alias, then names that are
/// not registered. Types whose params all have defaults come first, so
/// that small `node_type` bytes mostly give valid nodes.
fn type_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let registry = engine().registry();
        let accepts_empty = |name: &str| {
            registry
                .get(name)
                .and_then(|t| t.resolve(RuntimeHint::Auto).ok())
                .is_some_and(|(_, imp)| imp.check(&Value::Object(Map::new())).is_ok())
        };
        let mut names: Vec<String> = registry.names().map(str::to_owned).collect();
        names.sort_by_key(|n| !accepts_empty(n));
        names.extend(["NoSuchNode", "passthroughnode", ""].map(str::to_owned));
        names
    })
}

/// Every param name any node type declares.
fn param_keys() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys: Vec<String> = engine()
            .registry()
            .types()
            .iter()
            .filter_map(|t| t.params_schema.get("properties").and_then(Value::as_object))
            .flat_map(|p| p.keys().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    })
}

fn id(id: &Id) -> String {
    match id {
        Id::Pool(k) => format!("n{}", k % 12),
        Id::Blank(k) => " ".repeat(usize::from(k % 3)),
        Id::Raw(s) => s.clone(),
    }
}

fn param(key: &Key, value: &ParamValue) -> (String, Value) {
    let key = match key {
        Key::Known(k) => {
            let keys = param_keys();
            keys.get(usize::from(*k) % keys.len().max(1))
                .cloned()
                .unwrap_or_default()
        }
        Key::Raw(s) => s.clone(),
    };
    let value = match value {
        ParamValue::Null => Value::Null,
        ParamValue::Bool(b) => Value::Bool(*b),
        ParamValue::Int(i) => Value::from(*i),
        ParamValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ParamValue::Text(s) => Value::String(s.clone()),
        ParamValue::Array(a) => Value::from(a.clone()),
    };
    (key, value)
}

fn manifest(input: &Input) -> Manifest {
    let names = type_names();
    let nodes: Vec<NodeSpec> = input
        .nodes
        .iter()
        .map(|n| NodeSpec {
            id: id(&n.id),
            node_type: names[usize::from(n.node_type) % names.len()].clone(),
            params: n.params.iter().take(4).map(|(k, v)| param(k, v)).collect(),
            runtime_hint: match n.hint % 8 {
                0 => RuntimeHint::Rust,
                1 => RuntimeHint::Python,
                _ => RuntimeHint::Auto,
            },
            retry: None,
            timeout_ms: n.timeout_ms.map(u64::from),
            on_failure: None,
            circuit_breaker: None,
        })
        .collect();
    let end = |e: &End| match e {
        End::Node(k) if !nodes.is_empty() => nodes[usize::from(*k) % nodes.len()].id.clone(),
        End::Node(k) => format!("n{k}"),
        End::Id(i) => id(i),
    };
    let connections = input
        .connections
        .iter()
        .map(|(from, to)| Connection {
            from: end(from),
            to: end(to),
        })
        .collect();
    Manifest {
        version: "v1".into(),
        metadata: Metadata::default(),
        nodes,
        connections,
    }
}

/// What compiling should give, worked out without the engine's validation
/// or graph code (the registry is asked only about types and params).
#[derive(Debug, PartialEq)]
enum Expected {
    Invalid,
    Cycle,
    Ok,
}

fn expected(m: &Manifest) -> Expected {
    let registry = engine().registry();
    let mut index = HashMap::new();
    let mut invalid = m.nodes.is_empty();
    for (i, n) in m.nodes.iter().enumerate() {
        invalid |= n.id.trim().is_empty() || index.insert(n.id.as_str(), i).is_some();
        invalid |= n.id.len() > MAX_ID_BYTES || n.id.chars().any(is_unsafe);
        invalid |= n.timeout_ms.is_some_and(|ms| ms == 0 || ms > MAX_TIMEOUT_MS);
        let params_ok = registry
            .get(&n.node_type)
            .and_then(|t| t.resolve(n.runtime_hint).ok())
            .is_some_and(|(_, imp)| imp.check(&Value::Object(n.params.clone())).is_ok());
        invalid |= !params_ok;
    }
    let mut seen = HashSet::new();
    let mut successors = vec![Vec::new(); m.nodes.len()];
    for c in &m.connections {
        invalid |= !seen.insert((c.from.as_str(), c.to.as_str()));
        match (index.get(c.from.as_str()), index.get(c.to.as_str())) {
            (Some(&f), Some(&t)) => successors[f].push(t),
            _ => invalid = true,
        }
    }
    if invalid {
        Expected::Invalid
    } else if has_cycle(&successors) {
        Expected::Cycle
    } else {
        Expected::Ok
    }
}

/// Depth-first search for a back edge.
fn has_cycle(successors: &[Vec<usize>]) -> bool {
    // 0: unvisited, 1: on the stack, 2: done.
    let mut state = vec![0u8; successors.len()];
    for root in 0..successors.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let node = top.0;
            if let Some(&s) = successors[node].get(top.1) {
                top.1 += 1;
                match state[s] {
                    0 => {
                        state[s] = 1;
                        stack.push((s, 0));
                    }
                    1 => return true,
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    false
}

fuzz_target!(|input: Input| {
    let m = manifest(&input);
    let want = expected(&m);
    let first = compile_and_check(m.clone());
    let got = match &first {
        Ok(_) => Expected::Ok,
        Err(ManifestError::Cycle(_)) => Expected::Cycle,
        Err(_) => Expected::Invalid,
    };
    assert_eq!(got, want, "compile gave {first:?}");
    // The same manifest compiles to the same graph (or the same error).
    let second = compile_and_check(m);
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(a.graph(), b.graph(), "graph differs between compiles"),
        (Err(a), Err(b)) => assert_eq!(a, b, "error differs between compiles"),
        _ => panic!("compile is not deterministic: {first:?} then {second:?}"),
    }
    if let Ok(pipeline) = &first {
        instantiate(pipeline);
    }
});
