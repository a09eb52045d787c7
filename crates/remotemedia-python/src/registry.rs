//! The node types the bindings can build: the engine's built-in nodes and
//! the native audio nodes, registered once per process.

use std::sync::OnceLock;

use remotemedia_core::{Registry, Runtime};

static BASE: OnceLock<Registry> = OnceLock::new();

/// The shared registry: built-ins plus `remotemedia_audio::register` and
/// `remotemedia_media::register`.
pub fn base() -> &'static Registry {
    BASE.get_or_init(|| {
        let mut registry = Registry::with_builtins();
        remotemedia_audio::register(&mut registry);
        remotemedia_media::register(&mut registry);
        registry
    })
}

/// True when `node_type` resolves to a type with a native implementation.
pub fn has_native(node_type: &str) -> bool {
    base()
        .get(node_type)
        .is_some_and(|t| t.runtimes().any(|r| r == Runtime::Native))
}
