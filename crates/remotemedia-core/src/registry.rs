//! The table from `node_type` to a builder.
//!
//! Adding a node type is one file (the node and its params) plus one
//! [`Registry::register`] call.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::node::Node;
use crate::params::NodeParams;

/// Which implementation of a node type to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeHint {
    /// Native if the type has a native implementation, else CPython.
    /// (The older runtime's `RUNTIME_HINT_*` names: unspecified, auto and
    /// the retired RustPython mean auto; the two CPython ones mean python.)
    #[default]
    #[serde(
        alias = "RUNTIME_HINT_UNSPECIFIED",
        alias = "RUNTIME_HINT_AUTO",
        alias = "RUNTIME_HINT_RUSTPYTHON"
    )]
    Auto,
    /// Native only (older spelling: `rust_native`).
    #[serde(alias = "rust_native")]
    Rust,
    /// CPython only (older spellings: `rust_python`, `cpython`).
    #[serde(
        alias = "rust_python",
        alias = "cpython",
        alias = "RUNTIME_HINT_CPYTHON",
        alias = "RUNTIME_HINT_CPYTHON_WASM"
    )]
    Python,
}

impl fmt::Display for RuntimeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Rust => "rust",
            Self::Python => "python",
        })
    }
}

/// Where a node type's implementation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// Native Rust code.
    Native,
    /// CPython, through the Python bindings.
    Python,
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Native => "rust",
            Self::Python => "python",
        })
    }
}

/// A problem with a node's params, located inside `params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    /// Path inside `params` (e.g. `threshold_db`); empty for the whole object.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Builds a node from its (JSON) params.
pub type BuildFn = dyn Fn(&Value) -> Result<Box<dyn Node>, ParamProblem> + Send + Sync;

/// Checks params without building a node.
pub type CheckFn = dyn Fn(&Value) -> Result<(), ParamProblem> + Send + Sync;

/// Checks params and fills in what is unset (see [`NodeParams::resolved`]).
pub type ResolveFn = dyn Fn(&Value) -> Result<Value, ParamProblem> + Send + Sync;

/// One implementation of a node type.
#[derive(Clone)]
pub struct Implementation {
    build: Arc<BuildFn>,
    check: Arc<CheckFn>,
    resolve: Arc<ResolveFn>,
}

impl fmt::Debug for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Implementation(..)")
    }
}

impl Implementation {
    /// An implementation from typed params and a constructor.
    ///
    /// The constructor may still refuse a combination of params (returning a
    /// message); it is then reported like any other param problem.
    pub fn typed<P, F>(construct: F) -> Self
    where
        P: NodeParams,
        F: Fn(P) -> Result<Box<dyn Node>, String> + Send + Sync + 'static,
    {
        Self {
            build: Arc::new(move |v| construct(parse_params::<P>(v)?).map_err(whole_object)),
            check: Arc::new(|v| parse_params::<P>(v).map(drop)),
            resolve: Arc::new(|v| {
                let params = parse_params::<P>(v)?.resolved();
                serde_json::to_value(params).map_err(|e| whole_object(e.to_string()))
            }),
        }
    }

    /// An implementation from raw JSON params, for foreign runtimes whose
    /// params are checked by the foreign code itself.
    pub fn untyped<F>(build: F) -> Self
    where
        F: Fn(&Value) -> Result<Box<dyn Node>, String> + Send + Sync + 'static,
    {
        Self {
            build: Arc::new(move |v| build(v).map_err(whole_object)),
            check: Arc::new(|_| Ok(())),
            resolve: Arc::new(|v| Ok(v.clone())),
        }
    }

    /// Builds a node.
    pub fn build(&self, params: &Value) -> Result<Box<dyn Node>, ParamProblem> {
        (self.build)(params)
    }

    /// Checks params; the first problem found.
    pub fn check(&self, params: &Value) -> Result<(), ParamProblem> {
        (self.check)(params)
    }

    /// Checks params and returns them with every unset value filled in, as
    /// the node will use them (foreign implementations: unchanged).
    pub fn resolve(&self, params: &Value) -> Result<Value, ParamProblem> {
        (self.resolve)(params)
    }

    /// Checks params; every problem found (see [`crate::set_aside`]).
    pub fn check_all(&self, params: &Value) -> Vec<ParamProblem> {
        crate::set_aside::every_problem(params, |v| self.check(v), |p| (p.path.as_str(), p.message.clone()))
    }
}

fn whole_object(message: String) -> ParamProblem {
    ParamProblem {
        path: String::new(),
        message,
    }
}

/// Deserializes and validates typed params, locating any problem.
pub fn parse_params<P: NodeParams>(value: &Value) -> Result<P, ParamProblem> {
    let params: P = serde_path_to_error::deserialize(value).map_err(|e| ParamProblem {
        path: clean_path(&e.path().to_string()),
        message: e.inner().to_string(),
    })?;
    params.validate().map_err(|e| ParamProblem {
        path: e.field,
        message: e.message,
    })?;
    Ok(params)
}

/// serde_path_to_error writes `.` for the root; we want an empty path there.
fn clean_path(path: &str) -> String {
    if path == "." { String::new() } else { path.to_owned() }
}

/// Everything the registry knows about one node type.
#[derive(Clone)]
pub struct NodeType {
    /// The canonical name (the Python class name, e.g. `AudioResampleNode`).
    pub name: String,
    /// Other names that resolve to this type (e.g. `ResampleNode`).
    pub aliases: Vec<String>,
    /// One line on what the node does.
    pub description: String,
    /// JSON Schema of the params (from their doc comments and defaults).
    pub params_schema: Value,
    implementations: BTreeMap<Runtime, Implementation>,
}

impl NodeType {
    /// A node type with typed params `P` and no implementation yet.
    pub fn new<P: NodeParams>(name: &str, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            aliases: Vec::new(),
            description: description.to_owned(),
            params_schema: schemars::schema_for!(P).to_value(),
            implementations: BTreeMap::new(),
        }
    }

    /// Adds another name for this type.
    pub fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_owned());
        self
    }

    /// Adds the native implementation built by `construct`.
    pub fn native<P, F>(self, construct: F) -> Self
    where
        P: NodeParams,
        F: Fn(P) -> Result<Box<dyn Node>, String> + Send + Sync + 'static,
    {
        self.implementation(Runtime::Native, Implementation::typed(construct))
    }

    /// Adds (or replaces) the implementation for `runtime`.
    pub fn implementation(mut self, runtime: Runtime, implementation: Implementation) -> Self {
        self.implementations.insert(runtime, implementation);
        self
    }

    /// The runtimes this type can run on.
    pub fn runtimes(&self) -> impl Iterator<Item = Runtime> + '_ {
        self.implementations.keys().copied()
    }

    /// Picks the implementation a `runtime_hint` asks for: `auto` prefers
    /// native code, `rust` and `python` insist on theirs.
    pub fn resolve(&self, hint: RuntimeHint) -> Result<(Runtime, &Implementation), String> {
        let wanted: &[Runtime] = match hint {
            RuntimeHint::Auto => &[Runtime::Native, Runtime::Python],
            RuntimeHint::Rust => &[Runtime::Native],
            RuntimeHint::Python => &[Runtime::Python],
        };
        wanted
            .iter()
            .find_map(|r| self.implementations.get(r).map(|i| (*r, i)))
            .ok_or_else(|| {
                let have: Vec<String> = self.runtimes().map(|r| r.to_string()).collect();
                format!(
                    "runtime_hint \"{hint}\" cannot be met: {} has implementations for [{}] only",
                    self.name,
                    have.join(", ")
                )
            })
    }
}

impl fmt::Debug for NodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeType")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("runtimes", &self.runtimes().collect::<Vec<_>>())
            .finish()
    }
}

/// The node types an engine can build, by name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    types: Vec<NodeType>,
    by_name: BTreeMap<String, usize>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node type, replacing any type that owns one of its names.
    pub fn register(&mut self, node_type: NodeType) -> &mut Self {
        let names: Vec<String> = std::iter::once(node_type.name.clone())
            .chain(node_type.aliases.iter().cloned())
            .collect();
        let existing = names.iter().find_map(|n| self.by_name.get(n).copied());
        let index = match existing {
            Some(i) => {
                self.types[i] = node_type;
                i
            }
            None => {
                self.types.push(node_type);
                self.types.len() - 1
            }
        };
        for name in names {
            self.by_name.insert(name, index);
        }
        self
    }

    /// Adds an implementation to an existing type (for example a Python
    /// fallback for a native node). Returns false if no type has that name.
    pub fn add_implementation(&mut self, name: &str, runtime: Runtime, implementation: Implementation) -> bool {
        match self.by_name.get(name) {
            Some(&i) => {
                self.types[i].implementations.insert(runtime, implementation);
                true
            }
            None => false,
        }
    }

    /// The type with this name or alias.
    pub fn get(&self, name: &str) -> Option<&NodeType> {
        self.by_name.get(name).map(|&i| &self.types[i])
    }

    /// Every type, in registration order.
    pub fn types(&self) -> &[NodeType] {
        &self.types
    }

    /// Every name and alias, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Names close to `name` (edit distance or case), best first, for
    /// "did you mean" hints.
    pub fn close_matches(&self, name: &str) -> Vec<&str> {
        let lower = name.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .names()
            .map(|n| {
                let nl = n.to_lowercase();
                let score = if nl == lower || nl.contains(&lower) || lower.contains(&nl) {
                    1.0
                } else {
                    strsim::jaro_winkler(&lower, &nl)
                };
                (score, n)
            })
            .filter(|(s, _)| *s >= 0.85)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_matches_find_typos_and_case() {
        let r = Registry::with_builtins();
        assert_eq!(r.close_matches("MultiplyNod"), vec!["MultiplyNode"]);
        assert_eq!(r.close_matches("addnode"), vec!["AddNode"]);
        assert!(r.close_matches("Whisper").is_empty());
    }

    #[test]
    fn resolve_respects_hints() {
        let r = Registry::with_builtins();
        let t = r.get("PassThroughNode").unwrap();
        assert_eq!(t.resolve(RuntimeHint::Auto).unwrap().0, Runtime::Native);
        assert_eq!(t.resolve(RuntimeHint::Rust).unwrap().0, Runtime::Native);
        let err = t.resolve(RuntimeHint::Python).unwrap_err();
        assert!(err.contains("python"), "{err}");
    }
}
