//! The pipelines a restricted server (`--pipelines DIR`) runs, and the rule
//! that picks one for a request.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use remotemedia_core::{Engine, Manifest, Pipeline};

use crate::wire_error::WireError;

/// Manifests loaded from a directory, compiled once, by `metadata.name`.
#[derive(Debug)]
pub struct Catalog {
    entries: BTreeMap<String, (Manifest, Arc<Pipeline>)>,
}

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The directory could not be listed.
    #[error("cannot read pipelines directory {path}: {message}")]
    Io {
        /// The directory.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A manifest in it is invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// The manifest file.
        path: String,
        /// Every problem found.
        message: String,
    },
    /// Two manifests share a name, or one has none.
    #[error("{path}: {message}")]
    Name {
        /// The manifest file.
        path: String,
        /// What is wrong with its name.
        message: String,
    },
}

impl Catalog {
    /// Loads and compiles every `.json`, `.yaml` and `.yml` manifest in
    /// `dir`; each needs a `metadata.name`, unique in the directory.
    pub fn load(dir: &Path, engine: &Engine) -> Result<Self, CatalogError> {
        let io = |e: std::io::Error| CatalogError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        paths.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "yaml" | "yml")));
        paths.sort();
        let mut entries = BTreeMap::new();
        for path in paths {
            let shown = path.display().to_string();
            let invalid = |e: remotemedia_core::ManifestError| CatalogError::Invalid {
                path: shown.clone(),
                message: e.to_string(),
            };
            let manifest = Manifest::from_path(&path).map_err(invalid)?;
            let pipeline = engine.compile(manifest.clone()).map_err(invalid)?;
            let Some(name) = manifest.metadata.name.clone() else {
                return Err(CatalogError::Name {
                    path: shown,
                    message: "has no metadata.name, which requests use to pick it".into(),
                });
            };
            if entries.contains_key(&name) {
                return Err(CatalogError::Name {
                    path: shown,
                    message: format!("metadata.name {name:?} is already used by another manifest in the directory"),
                });
            }
            entries.insert(name, (manifest, pipeline));
        }
        Ok(Self { entries })
    }

    /// The names served.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The pipeline a request asks for: named by `metadata.name` with no
    /// nodes, or sent verbatim. Anything else is refused.
    pub fn pick(&self, requested: &Manifest) -> Result<Arc<Pipeline>, WireError> {
        let name = requested.metadata.name.as_deref().unwrap_or("");
        let entry = self.entries.get(name);
        match entry {
            Some((_, pipeline)) if requested.nodes.is_empty() => Ok(Arc::clone(pipeline)),
            Some((manifest, pipeline)) if same_graph(manifest, requested) => Ok(Arc::clone(pipeline)),
            Some(_) => Err(WireError::permission_denied(format!(
                "this server runs only its own pipelines: the manifest sent differs from {name:?}; send metadata.name {name:?} with no nodes"
            ))),
            None => Err(WireError::permission_denied(format!(
                "this server runs only its own pipelines ({}); {name:?} is not one of them",
                self.names().collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

/// True when `requested` has the nodes and connections of `served`, fields
/// the engine does not act on (older clients' `is_streaming`,
/// `capabilities`, `host`) aside.
fn same_graph(served: &Manifest, requested: &Manifest) -> bool {
    let strip = |m: &Manifest| {
        let mut nodes = m.nodes.clone();
        for n in &mut nodes {
            n.is_streaming = None;
            n.capabilities = None;
            n.host = None;
        }
        nodes
    };
    strip(served) == strip(requested) && served.connections == requested.connections
}
