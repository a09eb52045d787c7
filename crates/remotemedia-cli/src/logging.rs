//! The command's log: the engine's `tracing` events on stderr, filtered by
//! `RUST_LOG`, as text or JSON lines (`--log-format`). Without `RUST_LOG`
//! nothing is logged: the command's own messages say what went wrong, and a
//! failure its manifest handles (`on_failure: skip`) stays quiet.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event (`timestamp`, `level`, `fields`, `target`, `spans`).
    Json,
}

/// Installs the log for this process. A process that already has one (the
/// Python extension forwards events to Python's `logging`) keeps it. A
/// `RUST_LOG` that does not parse is an error naming it.
pub fn init(format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).map_err(|e| format!("RUST_LOG={spec:?}: {e}"))?
        }
        _ => EnvFilter::new("off"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Another log already installed is not an error: see above.
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
    Ok(())
}
