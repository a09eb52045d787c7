//! Errors, one type per layer.
//!
//! - [`ManifestError`]: the manifest or graph is wrong; found at build time.
//! - [`NodeError`]: a node failed while running; carries its [`ErrorClass`]
//!   and, optionally, the error that caused it.
//! - [`EngineError`]: a run failed; names the node and how many attempts were
//!   made.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::printable::{cut_at, escaped, quoted, short};

/// Whether a node error is worth retrying (`"transient"` or `"fatal"` in manifests, e.g.
/// `FaultInjectionNode`'s `error_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ErrorClass {
    /// Timeout, unavailable, rate limited, I/O interrupted: retried with
    /// backoff and counted by the circuit breaker.
    Transient,
    /// Parse error, invalid input, bad params, bug: returned at once.
    Fatal,
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Transient => "transient",
            Self::Fatal => "fatal",
        })
    }
}

/// A failure inside one node call.
///
/// It may carry the error that caused it ([`NodeError::with_source`]), which
/// travels with it out of the run: `std::error::Error::source` returns it,
/// to be downcast by whoever knows its type (the Python bindings attach a
/// Python node's own exception this way). Clones share the source. Two
/// errors are equal when their class and message are, and they carry the
/// same source (or none).
#[derive(Debug, Clone)]
pub struct NodeError {
    class: ErrorClass,
    message: String,
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl NodeError {
    /// A transient error (worth retrying).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Transient,
            message: message.into(),
            source: None,
        }
    }

    /// A fatal error (never retried).
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            class: ErrorClass::Fatal,
            message: message.into(),
            source: None,
        }
    }

    /// A fatal error for input the node cannot take.
    pub fn invalid_input(node_type: &str, expected: &str, got: &str) -> Self {
        Self::fatal(format!("{node_type} expects {expected}, got {got}"))
    }

    /// The same error, caused by `source` (replacing any source it had).
    pub fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The class of the error.
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// True for transient errors.
    pub fn is_transient(&self) -> bool {
        self.class == ErrorClass::Transient
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for NodeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl PartialEq for NodeError {
    fn eq(&self, other: &Self) -> bool {
        self.class == other.class
            && self.message == other.message
            && match (&self.source, &other.source) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

impl Eq for NodeError {}

/// One problem found in a manifest, located by JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending value, e.g. `nodes[1].params.threshold_db`.
    pub path: String,
    /// Id of the node the path is inside, when there is one.
    pub node_id: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A message quotes user strings (an unknown param's name...): cut
        // long enough for any message of ours, short enough not to flood.
        let message = cut_at(&self.message, 2000);
        if self.path.is_empty() {
            f.write_str(&message)?;
        } else {
            write!(f, "{}: {message}", short(&self.path))?;
        }
        if let Some(id) = &self.node_id {
            write!(f, " (node {})", quoted(id))?;
        }
        Ok(())
    }
}

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The text is not JSON (or YAML).
    #[error("{format} syntax error: {message}")]
    Syntax {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The manifest file could not be read.
    #[error("cannot read manifest {}: {message}", escaped(.path))]
    Io {
        /// The path given.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The manifest breaks one or more rules; every problem found is listed.
    #[error("{}", join_problems(.0))]
    Invalid(Vec<Problem>),
    /// The connections form a cycle, named in order (`a -> b -> a`).
    #[error("cycle: {}", escaped(&.0.join(" -> ")))]
    Cycle(Vec<String>),
}

impl ManifestError {
    /// A single problem.
    pub fn problem(path: impl Into<String>, node_id: Option<&str>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![Problem {
            path: path.into(),
            node_id: node_id.map(str::to_owned),
            message: message.into(),
        }])
    }

    /// The problems listed, or the error itself as one problem.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            Self::Invalid(p) => p.clone(),
            other => vec![Problem {
                path: String::new(),
                node_id: None,
                message: other.to_string(),
            }],
        }
    }
}

fn join_problems(problems: &[Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A node failed (after its retries, if the error was transient).
    #[error("node {} failed ({}, {attempts} attempt{}): {}", quoted(.node_id), .error.class(), if *.attempts == 1 { "" } else { "s" }, escaped(.error.message()))]
    Node {
        /// Id of the node.
        node_id: String,
        /// The last error.
        error: NodeError,
        /// How many calls were made.
        attempts: u32,
    },
    /// A node's circuit breaker is open and its policy is to fail.
    #[error("node {} is unavailable: its circuit breaker is open", quoted(.node_id))]
    CircuitOpen {
        /// Id of the node.
        node_id: String,
    },
    /// The session was closed, or its task ended, before the call finished.
    #[error("session closed")]
    SessionClosed,
    /// An input was pushed to a node id that is not a source of the graph.
    #[error("{} is not a source node of this pipeline", quoted(.0))]
    NotASource(String),
}

impl EngineError {
    /// Id of the node at fault, if any.
    pub fn node_id(&self) -> Option<&str> {
        match self {
            Self::Node { node_id, .. } | Self::CircuitOpen { node_id } => Some(node_id),
            _ => None,
        }
    }
}
