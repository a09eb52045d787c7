//! What went wrong with a request, and how it is told to the client: as an
//! `ErrorResponse` message (what `remotemedia.v1` clients read) and as the
//! gRPC status that ends the call (what gRPC-level clients and
//! `RemotePipelineNode` classify as transient or fatal).

use remotemedia_core::{EngineError, ErrorClass, ManifestError};
use tonic::{Code, Status};

use crate::proto::{ErrorResponse, ErrorType};

/// The kind of a request failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireErrorKind {
    /// Malformed or invalid input: `ERROR_TYPE_VALIDATION`, `INVALID_ARGUMENT`.
    Validation,
    /// Over a limit: `ERROR_TYPE_RESOURCE_LIMIT`, `RESOURCE_EXHAUSTED`.
    ResourceLimit,
    /// A pipeline this server does not run: `ERROR_TYPE_VALIDATION`,
    /// `PERMISSION_DENIED`.
    PermissionDenied,
    /// A node failed fatally: `ERROR_TYPE_NODE_EXECUTION`, `ABORTED`.
    NodeExecution,
    /// A node failed transiently (after the server's own retries):
    /// `ERROR_TYPE_NODE_EXECUTION`, `UNAVAILABLE`.
    NodeTransient,
    /// The request's time limit passed: `ERROR_TYPE_RESOURCE_LIMIT`,
    /// `DEADLINE_EXCEEDED`.
    Timeout,
    /// The server is shutting down: `ERROR_TYPE_INTERNAL`, `UNAVAILABLE`.
    Unavailable,
}

/// A request failure with a message naming what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// The kind.
    pub kind: WireErrorKind,
    /// What was wrong, and where.
    pub message: String,
    /// The node at fault, if any.
    pub node_id: Option<String>,
}

impl WireError {
    fn new(kind: WireErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            node_id: None,
        }
    }

    /// Malformed or invalid input.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(WireErrorKind::Validation, message)
    }

    /// Over a limit.
    pub fn resource_limit(message: impl Into<String>) -> Self {
        Self::new(WireErrorKind::ResourceLimit, message)
    }

    /// A pipeline this server refuses to run.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(WireErrorKind::PermissionDenied, message)
    }

    /// The time limit passed.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(WireErrorKind::Timeout, message)
    }

    /// The server cannot take this now.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(WireErrorKind::Unavailable, message)
    }

    /// The `ErrorResponse` message for `remotemedia.v1` clients.
    pub fn to_response(&self) -> ErrorResponse {
        let error_type = match self.kind {
            WireErrorKind::Validation | WireErrorKind::PermissionDenied => ErrorType::Validation,
            WireErrorKind::ResourceLimit | WireErrorKind::Timeout => ErrorType::ResourceLimit,
            WireErrorKind::NodeExecution | WireErrorKind::NodeTransient => ErrorType::NodeExecution,
            WireErrorKind::Unavailable => ErrorType::Internal,
        };
        ErrorResponse {
            error_type: error_type as i32,
            message: self.message.clone(),
            failing_node_id: self.node_id.clone().unwrap_or_default(),
            context: String::new(),
            stack_trace: String::new(),
        }
    }

    /// The gRPC status that ends the call.
    pub fn to_status(&self) -> Status {
        let code = match self.kind {
            WireErrorKind::Validation => Code::InvalidArgument,
            WireErrorKind::ResourceLimit => Code::ResourceExhausted,
            WireErrorKind::PermissionDenied => Code::PermissionDenied,
            WireErrorKind::NodeExecution => Code::Aborted,
            WireErrorKind::NodeTransient | WireErrorKind::Unavailable => Code::Unavailable,
            WireErrorKind::Timeout => Code::DeadlineExceeded,
        };
        Status::new(code, self.message.clone())
    }
}

impl From<ManifestError> for WireError {
    fn from(e: ManifestError) -> Self {
        Self::validation(format!("invalid manifest: {e}"))
    }
}

impl From<EngineError> for WireError {
    fn from(e: EngineError) -> Self {
        let kind = match &e {
            EngineError::Node { error, .. } if error.class() == ErrorClass::Transient => WireErrorKind::NodeTransient,
            EngineError::CircuitOpen { .. } => WireErrorKind::NodeTransient,
            EngineError::NotASource(_) => WireErrorKind::Validation,
            _ => WireErrorKind::NodeExecution,
        };
        Self {
            kind,
            node_id: e.node_id().map(str::to_owned),
            message: e.to_string(),
        }
    }
}
