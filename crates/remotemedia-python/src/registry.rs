//! The node types the bindings can build: every node type RemoteMedia ships
//! (the CLI's registry), registered once per process.

use std::sync::OnceLock;

use remotemedia_core::{Registry, Runtime};

static BASE: OnceLock<Registry> = OnceLock::new();

/// The shared registry: the same node types as the `remotemedia` command.
pub fn base() -> &'static Registry {
    BASE.get_or_init(remotemedia_cli::registry)
}

/// True when `node_type` resolves to a type with a native implementation.
pub fn has_native(node_type: &str) -> bool {
    base()
        .get(node_type)
        .is_some_and(|t| t.runtimes().any(|r| r == Runtime::Native))
}
