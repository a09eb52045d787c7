//! The node types the bindings can build: every node type RemoteMedia ships
//! (the CLI's registry), registered once per process.

use std::sync::OnceLock;

use remotemedia_core::{Engine, Registry, Runtime};

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// The engine every pipeline is compiled by, over the same node types as
/// the `remotemedia` command.
pub fn engine() -> &'static Engine {
    ENGINE.get_or_init(|| Engine::new(remotemedia_cli::registry()))
}

/// The shared registry (the [`engine`]'s).
pub fn base() -> &'static Registry {
    engine().registry()
}

/// True when `node_type` resolves to a type with a native implementation.
pub fn has_native(node_type: &str) -> bool {
    base()
        .get(node_type)
        .is_some_and(|t| t.runtimes().any(|r| r == Runtime::Native))
}
