//! Bearer-token authentication (`authorization: Bearer <token>` metadata).

use std::sync::Arc;

use tonic::{Request, Status};

/// Accepts requests carrying one of the configured tokens; with none
/// configured, accepts every request.
#[derive(Debug, Clone, Default)]
pub struct BearerAuth {
    tokens: Arc<[String]>,
}

impl BearerAuth {
    /// Auth over `tokens` (empty: no authentication).
    pub fn new(tokens: Vec<String>) -> Self {
        Self { tokens: tokens.into() }
    }

    /// True when requests must carry a token.
    pub fn is_enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The interceptor: `UNAUTHENTICATED` for a missing, malformed or wrong
    /// token.
    pub fn check(&self, request: Request<()>) -> Result<Request<()>, Status> {
        if self.tokens.is_empty() {
            return Ok(request);
        }
        let header = request
            .metadata()
            .get("authorization")
            .ok_or_else(|| Status::unauthenticated("missing authorization metadata (expected \"Bearer <token>\")"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| Status::unauthenticated("authorization metadata must be \"Bearer <token>\""))?;
        if self.tokens.iter().any(|t| same(t.as_bytes(), token.as_bytes())) {
            Ok(request)
        } else {
            Err(Status::unauthenticated("invalid bearer token"))
        }
    }
}

/// Compares in time that depends on the lengths only, not on where the
/// bytes first differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
