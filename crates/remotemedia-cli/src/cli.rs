//! `remotemedia`: run, validate and inspect RemoteMedia pipelines.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use remotemedia_core::printable::escaped;
use remotemedia_core::{Engine, Manifest, ManifestError, Registry};

use crate::logging::{self, LogFormat};
use crate::{batch, describe, loadtest, run, serve};

/// Real-time audio pipelines from a JSON or YAML manifest.
#[derive(Debug, Parser)]
#[command(name = "remotemedia", version, about)]
struct Cli {
    /// How log lines on stderr look; which are printed is set by `RUST_LOG`
    /// (default: none; e.g. `RUST_LOG=warn` or `RUST_LOG=remotemedia_core=debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stream an audio file (WAV, FLAC, MP3, OGG, M4A; `-` for standard input)
    /// through a pipeline.
    Run(run::RunArgs),
    /// Run every file of a corpus (a directory, glob or @list.txt) through a
    /// pipeline, files in parallel; outputs mirrored under --output with a
    /// JSON-lines index (last stdout line: a JSON summary).
    Batch(batch::BatchArgs),
    /// Check a manifest; exit 1 with every problem found if it is invalid.
    Validate {
        /// The manifest (JSON, or YAML for .yaml/.yml).
        manifest: PathBuf,
    },
    /// List every node type with its params, types, defaults and docs.
    Nodes {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of a v1 manifest.
    Schema,
    /// Open many real-time streaming sessions on one engine and report
    /// latency, drops, CPU and memory (last stdout line: one JSON object).
    Loadtest(loadtest::LoadtestArgs),
    /// Serve pipelines over gRPC (remotemedia.v1, health, reflection).
    Serve(serve::ServeArgs),
}

/// Every node type this build of the engine knows.
pub fn registry() -> Registry {
    let mut registry = Registry::with_builtins();
    remotemedia_audio::register(&mut registry);
    remotemedia_media::register(&mut registry);
    remotemedia_remote::register(&mut registry);
    registry
}

/// Runs the command line `args` (the first is the program name) and returns
/// the process exit status: 0 on success, 1 on failure, 2 for a usage error
/// (`--help` and `--version` print and return 0), 130/143 for a run
/// interrupted by SIGINT/SIGTERM. Never exits the process.
pub fn main(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Printing fails only when stdout/stderr are gone.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    status(dispatch(cli))
}

/// The status an `ExitCode` stands for: std has no accessor, and every code
/// the subcommands return is `ExitCode::from(u8)` (SUCCESS and FAILURE too).
fn status(code: ExitCode) -> u8 {
    (0..=u8::MAX).find(|&c| ExitCode::from(c) == code).unwrap_or(1)
}

fn dispatch(cli: Cli) -> ExitCode {
    if let Err(e) = logging::init(cli.log_format) {
        eprintln!("remotemedia: {e}");
        return ExitCode::FAILURE;
    }
    let engine = Engine::new(registry());
    match cli.command {
        Command::Run(args) => run::run(&engine, args),
        Command::Batch(args) => batch::batch(&engine, args),
        Command::Loadtest(args) => loadtest::loadtest(&engine, args),
        Command::Serve(args) => serve::serve(&engine, args),
        Command::Validate { manifest } => validate(&engine, &manifest),
        Command::Nodes { json } => {
            describe::print_nodes(engine.registry(), json);
            ExitCode::SUCCESS
        }
        Command::Schema => {
            let schema = Manifest::json_schema(engine.registry());
            println!("{}", serde_json::to_string_pretty(&schema).expect("schema serializes"));
            ExitCode::SUCCESS
        }
    }
}

fn validate(engine: &Engine, path: &std::path::Path) -> ExitCode {
    match Manifest::from_path(path).and_then(|m| engine.compile(m)) {
        Ok(pipeline) => {
            let g = pipeline.graph();
            let order: Vec<&str> = g.order().iter().map(|&i| g.id(i)).collect();
            println!(
                "{}: valid ({} nodes, {} connections; order: {})",
                escaped(&path.display().to_string()),
                g.len(),
                pipeline.manifest().connections.len(),
                order.join(" -> ")
            );
            for note in pipeline.manifest().ignored_fields() {
                println!("  note: {note}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            report_manifest_error(path, &e);
            ExitCode::FAILURE
        }
    }
}

/// Prints every problem of a refused manifest on stderr, one a line.
fn report_manifest_error(path: &std::path::Path, e: &ManifestError) {
    eprintln!("{}: invalid manifest", escaped(&path.display().to_string()));
    for p in e.problems() {
        eprintln!("  {p}");
    }
}
