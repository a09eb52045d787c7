//! `remotemedia`: run, validate and inspect RemoteMedia pipelines.

mod describe;
mod loadtest;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use remotemedia_core::metrics::alloc::TrackingAllocator;
use remotemedia_core::printable::escaped;
use remotemedia_core::{Engine, Manifest, ManifestError, Registry};

/// Counts heap bytes so node metrics can report peak memory.
#[global_allocator]
static ALLOCATOR: TrackingAllocator = TrackingAllocator;

/// Real-time audio pipelines from a JSON or YAML manifest.
#[derive(Debug, Parser)]
#[command(name = "remotemedia", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stream a WAV file through a pipeline.
    Run(run::RunArgs),
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
}

/// Every node type this build of the engine knows.
fn registry() -> Registry {
    let mut registry = Registry::with_builtins();
    remotemedia_audio::register(&mut registry);
    registry
}

fn main() -> ExitCode {
    // A panic inside a node call is caught and reported as that node's
    // error; only panics outside them (real crashes) print.
    remotemedia_core::panic::install_quiet_hook();
    let cli = Cli::parse();
    let engine = Engine::new(registry());
    match cli.command {
        Command::Run(args) => run::run(&engine, args),
        Command::Loadtest(args) => loadtest::loadtest(&engine, args),
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
