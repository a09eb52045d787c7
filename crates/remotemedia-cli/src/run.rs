//! `remotemedia run`: stream a WAV file through a pipeline.
//!
//! The file is read in chunks of `--chunk-ms` and pushed into a streaming
//! session, so memory stays flat however long the file is. Audio from one
//! sink goes to `--output`; every other output is printed on stdout as one
//! JSON object per line, naming the node that produced it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use remotemedia_core::{AudioData, Engine, Manifest, RunOptions, RuntimeData, SessionConfig, SinkOutput, VadInfo};
use serde_json::{Value, json};

use remotemedia_cli::wav::{WavChunks, WavSink};

/// Arguments of `remotemedia run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The manifest (JSON, or YAML for .yaml/.yml).
    manifest: PathBuf,
    /// The WAV file to stream through the pipeline.
    #[arg(long, short)]
    input: PathBuf,
    /// Where to write the audio of the output sink (a WAV file).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The sink whose audio goes to --output (default: the first sink that
    /// emits audio).
    #[arg(long)]
    output_node: Option<String>,
    /// Write the run's metrics (per-node time and memory) to this JSON file.
    #[arg(long)]
    metrics: Option<PathBuf>,
    /// Write a timeline of every node call to this file (Chrome trace-event
    /// JSON: open it in ui.perfetto.dev or chrome://tracing).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Chunk length in milliseconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=60_000))]
    chunk_ms: u32,
}

/// Runs the command; prints errors on stderr.
pub fn run(engine: &Engine, args: RunArgs) -> ExitCode {
    match execute(engine, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(engine: &Engine, args: &RunArgs) -> Result<(), String> {
    let manifest = Manifest::from_path(&args.manifest).map_err(|e| manifest_message(&args.manifest, &e))?;
    let pipeline = engine
        .compile(manifest)
        .map_err(|e| manifest_message(&args.manifest, &e))?;
    if let Some(id) = &args.output_node {
        let g = pipeline.graph();
        if !g.sinks().any(|i| g.id(i) == id) {
            let sinks: Vec<&str> = g.sinks().map(|i| g.id(i)).collect();
            return Err(format!(
                "--output-node \"{id}\" is not a sink; sinks: {}",
                sinks.join(", ")
            ));
        }
    }
    let probe = WavChunks::open(&args.input, 1).map_err(|e| e.to_string())?.info();
    let chunk_frames = (u64::from(probe.sample_rate) * u64::from(args.chunk_ms)).div_ceil(1000) as usize;
    let mut chunks = WavChunks::open(&args.input, chunk_frames).map_err(|e| e.to_string())?;
    let progress = progress_bar(probe.frames);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let config = SessionConfig {
            run: RunOptions {
                metrics: args.metrics.is_some(),
                trace: args.trace.is_some(),
            },
            ..SessionConfig::default()
        };
        let session = engine
            .open_session(&pipeline, config)
            .map_err(|e| manifest_message(&args.manifest, &e))?;
        let (tx, mut rx) = session.split();
        let bar = progress.clone();
        let producer = tokio::spawn(async move {
            while let Some(chunk) = chunks.next_chunk().map_err(|e| e.to_string())? {
                bar.inc(chunk.frames() as u64);
                if tx.send(RuntimeData::Audio(chunk)).await.is_err() {
                    break;
                }
            }
            Ok::<(), String>(())
        });
        let mut out = Outputs::new(args.output.as_deref(), args.output_node.clone());
        let mut failure = None;
        while let Some(result) = rx.recv().await {
            match result {
                Ok(o) => out.handle(o)?,
                Err(e) => failure = Some(e.to_string()),
            }
        }
        let read = producer.await.map_err(|e| format!("reader task failed: {e}"))?;
        progress.finish_and_clear();
        out.finish()?;
        if let (Some(path), Some(metrics)) = (&args.metrics, rx.metrics()) {
            std::fs::write(path, metrics.to_json()).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        if let (Some(path), Some(trace)) = (&args.trace, rx.trace_json()) {
            std::fs::write(path, trace).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        read?;
        failure.map_or(Ok(()), Err)
    })
}

fn manifest_message(path: &std::path::Path, e: &remotemedia_core::ManifestError) -> String {
    let lines: Vec<String> = e.problems().iter().map(|p| format!("  {p}")).collect();
    format!("{}: invalid manifest\n{}", path.display(), lines.join("\n"))
}

fn progress_bar(frames: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(frames), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed_precise} ETA {eta}") {
        bar.set_style(style);
    }
    bar
}

/// Where sink outputs go: audio of the output sink to the WAV file,
/// everything else to stdout as JSON lines.
///
/// VAD results that decide no frame and close no segment (the detector holds
/// its decisions back for a few frames) print no line. When stdout is closed
/// early (`remotemedia run ... | head`), lines stop but the run goes on, so the
/// WAV output and the metrics are still complete.
struct Outputs {
    wav: Option<WavSink>,
    audio_node: Option<Arc<str>>,
    stdout: std::io::BufWriter<std::io::Stdout>,
    stdout_closed: bool,
}

impl Outputs {
    fn new(path: Option<&std::path::Path>, node: Option<String>) -> Self {
        Self {
            wav: path.map(WavSink::new),
            audio_node: node.map(Arc::from),
            stdout: std::io::BufWriter::new(std::io::stdout()),
            stdout_closed: false,
        }
    }

    /// Prints one JSON line, unless stdout has been closed by its reader.
    fn print(&mut self, line: &Value) -> Result<(), String> {
        if self.stdout_closed {
            return Ok(());
        }
        match writeln!(self.stdout, "{line}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.stdout_closed = true;
                Ok(())
            }
            r => r.map_err(|e| format!("stdout: {e}")),
        }
    }

    fn handle(&mut self, o: SinkOutput) -> Result<(), String> {
        let mut line = json!({"node": &*o.node_id, "kind": o.data.kind()});
        if let (Some(wav), Some(audio)) = (self.wav.as_mut(), o.data.audio()) {
            let chosen = self.audio_node.get_or_insert_with(|| Arc::clone(&o.node_id));
            if *chosen == o.node_id {
                wav.write(audio).map_err(|e| e.to_string())?;
                if let RuntimeData::Vad { info, .. } = &o.data
                    && !says_nothing(info)
                {
                    extend(&mut line, json!(info));
                    self.print(&line)?;
                }
                return Ok(());
            }
        }
        match &o.data {
            RuntimeData::Audio(a) => extend(&mut line, json!({"audio": describe(a)})),
            RuntimeData::Vad { info, .. } if says_nothing(info) => return Ok(()),
            RuntimeData::Vad { audio, info } => {
                extend(&mut line, json!(info));
                extend(&mut line, json!({"audio": describe(audio)}));
            }
            RuntimeData::Json(v) => extend(&mut line, json!({"value": v})),
            RuntimeData::Text(t) => extend(&mut line, json!({"value": &**t})),
            RuntimeData::Bytes(b) => extend(&mut line, json!({"len": b.len()})),
            RuntimeData::Opaque(_) => {}
        }
        self.print(&line)
    }

    fn finish(mut self) -> Result<(), String> {
        match self.stdout.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(format!("stdout: {e}")),
            _ => {}
        }
        if let Some(wav) = self.wav.take()
            && !wav.finish().map_err(|e| e.to_string())?
        {
            eprintln!("warning: no sink produced audio; no output file was written");
        }
        Ok(())
    }
}

/// Whether VAD results decide no frame and complete no segment.
fn says_nothing(info: &VadInfo) -> bool {
    info.frame_decisions.is_empty() && info.segments.is_empty()
}

fn describe(a: &AudioData) -> Value {
    json!({"frames": a.frames(), "channels": a.channels(), "sample_rate": a.sample_rate(), "format": a.format().name()})
}

fn extend(line: &mut Value, more: Value) {
    if let (Some(l), Value::Object(m)) = (line.as_object_mut(), more) {
        l.extend(m);
    }
}
