//! Typed node parameters.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The parameters of a node type: a serde struct with defaults and doc
/// comments.
///
/// The doc comments become the help text of `remotemedia nodes` and the
/// descriptions in the manifest's JSON Schema. Implementations should use
/// `#[serde(default, deny_unknown_fields)]` so that a misspelt param is an
/// error rather than silently ignored.
pub trait NodeParams: DeserializeOwned + Serialize + JsonSchema + Default + Send + 'static {
    /// Checks ranges and combinations that the types alone cannot express.
    fn validate(&self) -> Result<(), ParamError> {
        Ok(())
    }

    /// These params with every unset value replaced by the value the node
    /// will use (defaults that depend on other params included), for callers
    /// that implement the node elsewhere and must agree with it. Called on
    /// valid params only.
    fn resolved(self) -> Self {
        self
    }
}

/// A param whose value is out of range or inconsistent with another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParamError {
    /// The param at fault (its JSON name).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ParamError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Params for node types that take none.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl NodeParams for NoParams {}
