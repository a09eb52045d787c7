//! The v1 pipeline manifest: parsing, validation and its JSON Schema.
//!
//! A manifest is parsed in stages, each refusing with errors that name the
//! JSON path (and node id) of what is wrong:
//!
//! 1. syntax (JSON or YAML), read strictly by [`crate::document`]: no
//!    duplicate keys, no non-finite numbers, bounded nesting and aliases;
//! 2. `version` (missing or unsupported);
//! 3. shape: fields and their types, unknown fields (serde, strict);
//! 4. meaning, against a [`Registry`]: ids, node types, params, connections,
//!    resilience settings — every problem found is reported at once;
//! 5. the graph: cycles (see [`crate::graph`]).
//!
//! Stages 1-3 are [`Manifest::from_json`] / [`Manifest::from_yaml`]; stage 4
//! is [`Manifest::validate`]; stage 5 happens when a
//! [`crate::Pipeline`] is built.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::document;
use crate::error::{ManifestError, Problem};
use crate::manifest_compat as compat;
use crate::printable::{is_unsafe, quoted, short};
use crate::registry::{Registry, RuntimeHint};

/// The only manifest version this engine reads.
pub const MANIFEST_VERSION: &str = "v1";

/// Longest node id, in bytes. Ids are printed in every error and output
/// line that concerns their node.
pub const MAX_ID_BYTES: usize = 256;
/// Most retries of one input (`retry.max_retries`).
pub const MAX_RETRIES: u32 = 100;
/// Longest retry delay (`retry.initial_delay_ms`, `retry.max_delay_ms`):
/// one hour, in ms.
pub const MAX_RETRY_DELAY_MS: u64 = 3_600_000;
/// Largest `retry.multiplier`.
pub const MAX_MULTIPLIER: f64 = 1000.0;
/// Longest `timeout_ms`: 24 hours, in ms.
pub const MAX_TIMEOUT_MS: u64 = 86_400_000;
/// Longest `circuit_breaker.cooldown_ms`: 24 hours, in ms.
pub const MAX_COOLDOWN_MS: u64 = 86_400_000;

/// A pipeline manifest (v1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Manifest format version; must be `"v1"`.
    pub version: String,
    /// Name and description of the pipeline.
    #[serde(default)]
    pub metadata: Metadata,
    /// The nodes, each with a unique id.
    pub nodes: Vec<NodeSpec>,
    /// Directed edges: data flows from `from` to `to`.
    #[serde(default)]
    pub connections: Vec<Connection>,
}

/// Descriptive metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Pipeline name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the pipeline is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it was written (older clients send it; not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// One node of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique, non-empty id, used by connections, errors and metrics; at
    /// most 256 bytes, without control characters or bidirectional text
    /// controls.
    #[schemars(length(min = 1, max = 256))]
    pub id: String,
    /// The node type: a registered name such as `AudioResampleNode`.
    pub node_type: String,
    /// The node's params (see `remotemedia nodes`); older clients send them
    /// as JSON text, which is accepted.
    #[serde(default, deserialize_with = "compat::params")]
    pub params: Map<String, Value>,
    /// Which implementation to run.
    #[serde(default)]
    pub runtime_hint: RuntimeHint,
    /// Retry policy for transient errors (default: 3 retries, 100 ms, x2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryConfig>,
    /// Longest a single call may take, in milliseconds (1 to 86400000,
    /// 24 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 86_400_000))]
    pub timeout_ms: Option<u64>,
    /// What downstream gets once the node's circuit breaker is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailure>,
    /// Circuit breaker settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<BreakerConfig>,
    /// Older clients' flag (not used: every node streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_streaming: Option<bool>,
    /// Older clients' machine requirements (not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<compat::Capabilities>,
    /// Older clients' placement on a named host (not used: the node runs
    /// where its pipeline runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// One edge of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Id of the upstream node.
    pub from: String,
    /// Id of the downstream node.
    pub to: String,
}

/// Exponential backoff for transient errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt (0 disables retrying; at most 100).
    #[schemars(range(max = 100))]
    pub max_retries: u32,
    /// Delay before the first retry, in milliseconds (at most 3600000, 1 h).
    #[schemars(range(max = 3_600_000))]
    pub initial_delay_ms: u64,
    /// Factor applied to the delay after each retry (1 to 1000).
    #[schemars(range(min = 1, max = 1000))]
    pub multiplier: f64,
    /// Upper bound on one delay, in milliseconds (at least
    /// initial_delay_ms, at most 3600000, 1 h).
    #[schemars(range(max = 3_600_000))]
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_delay_ms: 100,
            multiplier: 2.0,
            max_delay_ms: 30_000,
        }
    }
}

/// What a node whose circuit breaker is open hands downstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Fail the run (the default).
    #[default]
    Fail,
    /// Emit nothing: downstream gets no data from this node.
    Skip,
    /// Hand the node's input on unchanged.
    Passthrough,
}

/// Circuit breaker settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Consecutive failed executions that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before one trial call, in ms (at
    /// most 86400000, 24 h).
    #[schemars(range(max = 86_400_000))]
    pub cooldown_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cooldown_ms: 30_000,
        }
    }
}

impl Manifest {
    /// Parses JSON text (stages 1-3), strictly: see [`crate::document`].
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        Self::from_value(document::parse_json(text)?)
    }

    /// Parses YAML text (stages 1-3), strictly: see [`crate::document`].
    pub fn from_yaml(text: &str) -> Result<Self, ManifestError> {
        Self::from_value(document::parse_yaml(text)?)
    }

    /// Reads a manifest file: YAML for `.yaml`/`.yml`, JSON otherwise.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ManifestError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Self::from_yaml(&text),
            _ => Self::from_json(&text),
        }
    }

    /// Checks the version and the shape of a parsed document (stages 2-3).
    pub fn from_value(value: Value) -> Result<Self, ManifestError> {
        let Value::Object(top) = &value else {
            return Err(ManifestError::problem(
                "",
                None,
                format!("a manifest must be an object, got {}", json_type(&value)),
            ));
        };
        match top.get("version") {
            None => {
                return Err(ManifestError::problem(
                    "version",
                    None,
                    format!("missing; expected \"{MANIFEST_VERSION}\""),
                ));
            }
            Some(Value::String(v)) if v == MANIFEST_VERSION => {}
            Some(other) => {
                return Err(ManifestError::problem(
                    "version",
                    None,
                    format!("unsupported manifest version {other}; this engine reads \"{MANIFEST_VERSION}\""),
                ));
            }
        }
        serde_path_to_error::deserialize(&value).map_err(|_| ManifestError::Invalid(shape_problems(&value)))
    }

    /// Serializes to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serializes")
    }

    /// The fields present that the engine accepts but does not act on (sent
    /// by older clients), one note each, by JSON path.
    pub fn ignored_fields(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(c) = &self.metadata.created_at {
            notes.push(format!("metadata.created_at ({c:?}): accepted, not used"));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.is_streaming.is_some() {
                notes.push(format!(
                    "nodes[{i}].is_streaming: accepted, not used (every node streams)"
                ));
            }
            if n.capabilities.is_some() {
                notes.push(format!("nodes[{i}].capabilities: accepted, not used"));
            }
            if let Some(h) = &n.host {
                notes.push(format!(
                    "nodes[{i}].host ({h:?}): accepted, not used (the node runs here)"
                ));
            }
        }
        notes
    }

    /// Checks the manifest's meaning against the node types of `registry`
    /// (stage 4), reporting every problem found.
    pub fn validate(&self, registry: &Registry) -> Result<(), ManifestError> {
        self.validate_except(registry, &BTreeSet::new())
    }

    /// Like [`Self::validate`], except that the nodes whose ids are in
    /// `overridden` are built by caller-provided factories (see
    /// [`crate::overrides`]): their `node_type`, `runtime_hint` and params
    /// are not checked against the registry.
    pub fn validate_except(&self, registry: &Registry, overridden: &BTreeSet<&str>) -> Result<(), ManifestError> {
        let mut problems = Vec::new();
        let mut push = |path: String, id: Option<&str>, message: String| {
            problems.push(Problem {
                path,
                node_id: id.map(str::to_owned),
                message,
            });
        };
        if self.nodes.is_empty() {
            push("nodes".into(), None, "a pipeline needs at least one node".into());
        }
        let mut first_index: HashMap<&str, usize> = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let at = |field: &str| format!("nodes[{i}].{field}");
            let id = (!node.id.is_empty()).then_some(node.id.as_str());
            if node.id.trim().is_empty() {
                push(at("id"), None, "node id must not be empty".into());
            } else if node.id.len() > MAX_ID_BYTES {
                push(
                    at("id"),
                    id,
                    format!("node id is {} bytes long; at most {MAX_ID_BYTES}", node.id.len()),
                );
            } else if node.id.chars().any(is_unsafe) {
                push(
                    at("id"),
                    id,
                    "node id must not contain control characters (newline, tab, ESC...) or bidirectional text \
                     controls"
                        .into(),
                );
            } else if let Some(first) = first_index.insert(&node.id, i) {
                first_index.insert(&node.id, first);
                push(
                    at("id"),
                    id,
                    format!("duplicate node id (first used by nodes[{first}])"),
                );
            }
            match registry.get(&node.node_type) {
                _ if overridden.contains(node.id.as_str()) => {}
                None => {
                    let close = registry.close_matches(&node.node_type);
                    let hint = if close.is_empty() {
                        "see `remotemedia nodes` for the list".to_owned()
                    } else {
                        format!("did you mean {}?", close.join(", "))
                    };
                    push(
                        at("node_type"),
                        id,
                        format!("unknown node type {}; {hint}", quoted(&node.node_type)),
                    );
                }
                Some(node_type) => match node_type.resolve(node.runtime_hint) {
                    Err(message) => push(at("runtime_hint"), id, message),
                    Ok((_, implementation)) => {
                        for p in implementation.check_all(&Value::Object(node.params.clone())) {
                            let path = if p.path.is_empty() {
                                at("params")
                            } else {
                                at(&format!("params.{}", p.path))
                            };
                            push(path, id, p.message);
                        }
                    }
                },
            }
            if let Some(retry) = &node.retry {
                if !(retry.multiplier.is_finite() && (1.0..=MAX_MULTIPLIER).contains(&retry.multiplier)) {
                    push(
                        at("retry.multiplier"),
                        id,
                        format!("must be a number from 1 to {MAX_MULTIPLIER}, got {}", retry.multiplier),
                    );
                }
                if retry.max_retries > MAX_RETRIES {
                    push(
                        at("retry.max_retries"),
                        id,
                        format!("must be at most {MAX_RETRIES}, got {}", retry.max_retries),
                    );
                }
                for (field, ms) in [
                    ("retry.initial_delay_ms", retry.initial_delay_ms),
                    ("retry.max_delay_ms", retry.max_delay_ms),
                ] {
                    if ms > MAX_RETRY_DELAY_MS {
                        push(
                            at(field),
                            id,
                            format!("must be at most {MAX_RETRY_DELAY_MS} (one hour), got {ms}"),
                        );
                    }
                }
                if retry.max_delay_ms < retry.initial_delay_ms {
                    push(
                        at("retry.max_delay_ms"),
                        id,
                        "must not be below initial_delay_ms".into(),
                    );
                }
            }
            match node.timeout_ms {
                Some(0) => push(at("timeout_ms"), id, "must be positive".into()),
                Some(ms) if ms > MAX_TIMEOUT_MS => push(
                    at("timeout_ms"),
                    id,
                    format!("must be at most {MAX_TIMEOUT_MS} (24 hours), got {ms}"),
                ),
                _ => {}
            }
            if let Some(b) = &node.circuit_breaker {
                if b.failure_threshold == 0 {
                    push(at("circuit_breaker.failure_threshold"), id, "must be at least 1".into());
                }
                if b.cooldown_ms > MAX_COOLDOWN_MS {
                    push(
                        at("circuit_breaker.cooldown_ms"),
                        id,
                        format!("must be at most {MAX_COOLDOWN_MS} (24 hours), got {}", b.cooldown_ms),
                    );
                }
            }
        }
        let mut seen = BTreeSet::new();
        for (i, c) in self.connections.iter().enumerate() {
            for (field, end) in [("from", &c.from), ("to", &c.to)] {
                if !first_index.contains_key(end.as_str()) {
                    push(
                        format!("connections[{i}].{field}"),
                        None,
                        format!("unknown node {}", quoted(end)),
                    );
                }
            }
            if !seen.insert((&c.from, &c.to)) {
                push(
                    format!("connections[{i}]"),
                    None,
                    format!("duplicate connection {} -> {}", short(&c.from), short(&c.to)),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ManifestError::Invalid(problems))
        }
    }

    /// The JSON Schema of a v1 manifest whose node types are those of
    /// `registry`: each node type's params are checked by its own schema.
    pub fn json_schema(registry: &Registry) -> Value {
        let mut schema = schemars::schema_for!(Manifest).to_value();
        let types: Vec<&str> = registry.names().collect();
        let branches: Vec<Value> = registry
            .types()
            .iter()
            .map(|t| {
                let names: Vec<&str> = std::iter::once(t.name.as_str())
                    .chain(t.aliases.iter().map(String::as_str))
                    .collect();
                let mut params = t.params_schema.clone();
                if let Some(obj) = params.as_object_mut() {
                    obj.remove("$schema");
                    obj.insert("description".into(), json!(t.description));
                }
                json!({
                    "if": {"properties": {"node_type": {"enum": names}}},
                    "then": {"properties": {"params": params}}
                })
            })
            .collect();
        if let Some(node_schema) = schema.pointer_mut("/$defs/NodeSpec").and_then(Value::as_object_mut) {
            node_schema.insert("allOf".into(), Value::Array(branches));
            if let Some(nt) = node_schema
                .get_mut("properties")
                .and_then(|p| p.get_mut("node_type"))
                .and_then(Value::as_object_mut)
            {
                nt.insert("enum".into(), json!(types));
            }
        }
        if let Some(version) = schema.pointer_mut("/properties/version").and_then(Value::as_object_mut) {
            version.insert("const".into(), json!(MANIFEST_VERSION));
        }
        schema
    }
}

/// Every shape problem (stage 3) of a manifest that does not deserialize:
/// each node and connection is checked on its own, then the rest of the
/// document, each listing every problem it has (see [`crate::set_aside`]).
fn shape_problems(value: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut top = value.as_object().cloned().unwrap_or_default();
    for field in ["nodes", "connections"] {
        if let Some(Value::Array(items)) = top.get(field) {
            for (i, item) in items.iter().enumerate() {
                let at = format!("{field}[{i}]");
                problems.extend(if field == "nodes" {
                    field_problems::<NodeSpec>(item, &at)
                } else {
                    field_problems::<Connection>(item, &at)
                });
            }
            top.insert(field.to_owned(), Value::Array(Vec::new()));
        }
    }
    problems.extend(field_problems::<Manifest>(&Value::Object(top), ""));
    problems
        .into_iter()
        .map(|(path, message)| Problem {
            node_id: node_id_at(value, &path),
            path,
            message,
        })
        .collect()
}

/// The shape problems of `value` as a `T`, as (path, message), the paths
/// under `prefix` (see [`crate::set_aside`]).
fn field_problems<T: serde::de::DeserializeOwned>(value: &Value, prefix: &str) -> Vec<(String, String)> {
    let check = |v: &Value| {
        serde_path_to_error::deserialize::<_, T>(v).map(drop).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            (path, e.into_inner().to_string())
        })
    };
    crate::set_aside::every_problem(value, check, |(path, message)| (path.as_str(), message.clone()))
        .into_iter()
        .map(|(inner, message)| {
            let path = match (prefix.is_empty(), inner.is_empty()) {
                (_, true) => prefix.to_owned(),
                (true, false) => inner,
                (false, false) => format!("{prefix}.{inner}"),
            };
            (path, message)
        })
        .collect()
}

/// The id of the node a JSON path such as `nodes[2].params.x` points into.
fn node_id_at(value: &Value, path: &str) -> Option<String> {
    let rest = path.strip_prefix("nodes[")?;
    let index: usize = rest[..rest.find(']')?].parse().ok()?;
    value
        .pointer(&format!("/nodes/{index}/id"))?
        .as_str()
        .map(str::to_owned)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
