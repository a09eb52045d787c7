//! Fields of manifests written for the earlier RemoteMedia runtime (its
//! `remotemedia.v1` clients), accepted so those manifests load unchanged:
//! params as JSON text, `metadata.created_at`, a node's `is_streaming`,
//! `capabilities` and `host`. The engine does not act on them;
//! [`crate::Manifest::ignored_fields`] names the ones present.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// What a node asked of the machine running it (older runtime; not acted
/// on: every node runs where its pipeline runs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Capabilities {
    /// GPU requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuRequirement>,
    /// CPU requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuRequirement>,
    /// Memory, in GB.
    pub memory_gb: f64,
}

/// A GPU requirement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GpuRequirement {
    /// GPU kind (e.g. `cuda`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Least GPU memory, in GB.
    pub min_memory_gb: f64,
    /// Whether the node cannot run without it.
    pub required: bool,
}

/// A CPU requirement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CpuRequirement {
    /// Cores.
    pub cores: u32,
    /// Architecture (e.g. `x86_64`).
    pub arch: String,
}

/// Node params as a JSON object, or (older clients) as JSON text holding
/// one; an empty text means no params.
pub fn params<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    use serde::de::Error;
    match Value::deserialize(d)? {
        Value::Object(m) => Ok(m),
        Value::String(text) if text.trim().is_empty() => Ok(Map::new()),
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(other) => Err(D::Error::custom(format!(
                "params text must hold a JSON object, got {other}"
            ))),
            Err(e) => Err(D::Error::custom(format!("params text is not JSON: {e}"))),
        },
        other => Err(D::Error::custom(format!(
            "params must be an object (or JSON text of one), got {other}"
        ))),
    }
}
