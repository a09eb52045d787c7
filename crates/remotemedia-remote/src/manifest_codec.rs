//! `remotemedia.v1` `PipelineManifest` messages to engine [`Manifest`]s.
//!
//! Params arrive as JSON text; `runtime_hint` as the older `RuntimeHint`
//! enum (unspecified, auto and the retired RustPython mean auto; the two
//! CPython values mean python). `metadata.created_at`, `is_streaming`,
//! `capabilities` and `host` are carried into the manifest, which accepts
//! them without acting on them; [`Converted::notes`] names each present one
//! (from [`Manifest::ignored_fields`]) for the server log.

use remotemedia_core::{Manifest, ManifestError, Problem};
use serde_json::{Map, Value, json};

use crate::proto::{Connection, ManifestMetadata, NodeManifest, PipelineManifest, RuntimeHint};

/// A converted manifest and the notes about fields it ignored.
#[derive(Debug)]
pub struct Converted {
    /// The manifest (shape-checked, not yet validated against a registry).
    pub manifest: Manifest,
    /// One line per accepted-but-ignored field.
    pub notes: Vec<String>,
}

/// Converts a wire manifest, naming the path of every problem found.
pub fn convert(m: &PipelineManifest) -> Result<Converted, ManifestError> {
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    let mut nodes = Vec::with_capacity(m.nodes.len());
    for (i, n) in m.nodes.iter().enumerate() {
        match node(i, n, &mut notes) {
            Ok(v) => nodes.push(v),
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        return Err(ManifestError::Invalid(problems));
    }
    let mut metadata = Map::new();
    if let Some(md) = &m.metadata {
        if !md.name.is_empty() {
            metadata.insert("name".into(), md.name.clone().into());
        }
        if !md.description.is_empty() {
            metadata.insert("description".into(), md.description.clone().into());
        }
        if !md.created_at.is_empty() {
            metadata.insert("created_at".into(), md.created_at.clone().into());
        }
    }
    let version = if m.version.is_empty() { "v1" } else { m.version.as_str() };
    let connections: Vec<Value> = m
        .connections
        .iter()
        .map(|c| json!({"from": c.from, "to": c.to}))
        .collect();
    let value = json!({
        "version": version,
        "metadata": metadata,
        "nodes": nodes,
        "connections": connections,
    });
    let manifest = Manifest::from_value(value)?;
    notes.extend(manifest.ignored_fields());
    Ok(Converted { manifest, notes })
}

/// An engine manifest as a wire message (params as JSON text). The
/// protocol has no fields for `retry`, `timeout_ms`, `on_failure` or
/// `circuit_breaker`: the server applies its own defaults.
pub fn to_wire(m: &Manifest) -> PipelineManifest {
    PipelineManifest {
        version: m.version.clone(),
        metadata: Some(ManifestMetadata {
            name: m.metadata.name.clone().unwrap_or_default(),
            description: m.metadata.description.clone().unwrap_or_default(),
            created_at: m.metadata.created_at.clone().unwrap_or_default(),
        }),
        nodes: m
            .nodes
            .iter()
            .map(|n| NodeManifest {
                id: n.id.clone(),
                node_type: n.node_type.clone(),
                params: Value::Object(n.params.clone()).to_string(),
                is_streaming: false,
                capabilities: None,
                host: String::new(),
                runtime_hint: match n.runtime_hint {
                    remotemedia_core::RuntimeHint::Python => RuntimeHint::Cpython,
                    _ => RuntimeHint::Auto,
                } as i32,
            })
            .collect(),
        connections: m
            .connections
            .iter()
            .map(|c| Connection {
                from: c.from.clone(),
                to: c.to.clone(),
            })
            .collect(),
    }
}

fn node(i: usize, n: &NodeManifest, notes: &mut Vec<String>) -> Result<Value, Problem> {
    let at = |field: &str| format!("nodes[{i}].{field}");
    let problem = |field: &str, message: String| Problem {
        path: at(field),
        node_id: Some(n.id.clone()),
        message,
    };
    let params = if n.params.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str::<Value>(&n.params)
            .map_err(|e| problem("params", format!("params must be JSON text: {e}")))?
    };
    if !params.is_object() {
        return Err(problem("params", format!("params must be a JSON object, got {params}")));
    }
    let hint = match RuntimeHint::try_from(n.runtime_hint) {
        Ok(RuntimeHint::Cpython | RuntimeHint::CpythonWasm) => "python",
        Ok(RuntimeHint::Unspecified | RuntimeHint::Auto) => "auto",
        Ok(RuntimeHint::Rustpython) => {
            notes.push(format!(
                "{}: runtime_hint RUNTIME_HINT_RUSTPYTHON is retired; running as auto",
                at("runtime_hint")
            ));
            "auto"
        }
        Err(_) => {
            return Err(problem(
                "runtime_hint",
                format!("unknown RuntimeHint value {}", n.runtime_hint),
            ));
        }
    };
    let mut spec = json!({
        "id": n.id,
        "node_type": n.node_type,
        "params": params,
        "runtime_hint": hint,
    });
    if n.is_streaming {
        spec["is_streaming"] = Value::Bool(true);
    }
    if let Some(c) = &n.capabilities {
        let mut caps = json!({"memory_gb": c.memory_gb});
        if let Some(g) = &c.gpu {
            caps["gpu"] = json!({"type": g.r#type, "min_memory_gb": g.min_memory_gb, "required": g.required});
        }
        if let Some(cpu) = &c.cpu {
            caps["cpu"] = json!({"cores": cpu.cores, "arch": cpu.arch});
        }
        spec["capabilities"] = caps;
    }
    if !n.host.is_empty() {
        spec["host"] = Value::String(n.host.clone());
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::CapabilityRequirements;

    fn node(id: &str, node_type: &str, params: &str) -> NodeManifest {
        NodeManifest {
            id: id.into(),
            node_type: node_type.into(),
            params: params.into(),
            is_streaming: true,
            capabilities: None,
            host: String::new(),
            runtime_hint: RuntimeHint::Unspecified as i32,
        }
    }

    #[test]
    fn older_client_fields_are_accepted_with_notes() {
        let mut n = node("m", "MultiplyNode", r#"{"factor": 3}"#);
        n.capabilities = Some(CapabilityRequirements::default());
        n.host = "gpu-box".into();
        n.runtime_hint = RuntimeHint::Cpython as i32;
        let m = PipelineManifest {
            version: "v1".into(),
            metadata: Some(ManifestMetadata {
                name: "p".into(),
                description: String::new(),
                created_at: "2024-01-01T00:00:00Z".into(),
            }),
            nodes: vec![n, node("a", "AddNode", "")],
            connections: vec![Connection {
                from: "m".into(),
                to: "a".into(),
            }],
        };
        let c = convert(&m).unwrap();
        assert_eq!(c.manifest.nodes[0].params["factor"], json!(3));
        assert_eq!(c.manifest.nodes[0].runtime_hint, remotemedia_core::RuntimeHint::Python);
        assert_eq!(c.manifest.metadata.name.as_deref(), Some("p"));
        let notes = c.notes.join("\n");
        for field in ["created_at", "is_streaming", "capabilities", "host"] {
            assert!(notes.contains(field), "no note for {field}: {notes}");
        }
    }

    #[test]
    fn params_that_are_not_json_are_named() {
        let m = PipelineManifest {
            version: "v1".into(),
            metadata: None,
            nodes: vec![node("ok", "AddNode", "{}"), node("bad", "AddNode", "{factor: 2")],
            connections: vec![],
        };
        let e = convert(&m).unwrap_err().to_string();
        assert!(e.contains("nodes[1].params") && e.contains("\"bad\""), "{e}");
    }
}
