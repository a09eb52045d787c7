//! `remotemedia run`: stream an audio file (or standard input) through a
//! pipeline.
//!
//! The input (WAV, FLAC, MP3, OGG/Vorbis, M4A/AAC, found from the content)
//! is opened once and decoded in chunks of `--chunk-ms` pushed into a
//! streaming session, so memory stays flat however long it is. Audio from one
//! sink goes to `--output`; every other output is printed on stdout as one
//! JSON object per line, naming the node that produced it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use remotemedia_core::printable::{escaped, quoted};
use remotemedia_core::{
    AudioData, Engine, GraphRun, Manifest, RunOptions, RuntimeData, Session, SessionConfig, SinkOutput,
};
use serde_json::{Value, json};

use crate::remote_pipeline::{self, RemoteArgs};
use remotemedia_cli::files::{Role, check_distinct};
use remotemedia_media::MediaDecoder;
use remotemedia_media::wav::WavSink;

/// Arguments of `remotemedia run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The manifest (JSON, or YAML for .yaml/.yml).
    manifest: PathBuf,
    /// The audio to stream through the pipeline: WAV, FLAC, MP3, OGG/Vorbis
    /// or M4A/AAC (the format is found from the content), `-` for standard
    /// input (an M4A whose index is at its end needs a path).
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
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Exit status of a run stopped by SIGINT (128 + 2, as shells report it).
const EXIT_SIGINT: u8 = 130;
/// Exit status of a run stopped by SIGTERM (128 + 15).
const EXIT_SIGTERM: u8 = 143;

/// How a run ended.
enum Ended {
    /// Every input went through; every file is written.
    Done,
    /// It failed; the files hold what was done up to the failure.
    Failed(String),
    /// A signal stopped it (the exit status to report), with a failure
    /// found while stopping, if any.
    Interrupted(u8, Option<String>),
}

/// Runs the command; prints errors on stderr.
///
/// The run's session ends as every session does: at the end of the input
/// it drains (every chunk read goes through the pipeline, which is then
/// flushed); a signal or an output that cannot be written cancels it (the
/// chunk being processed finishes, the chunks read but not yet processed
/// are dropped, nothing is flushed). A node failure ends it at that node.
///
/// The WAV output, the metrics and the trace are written whatever ends the
/// run. On the first SIGINT / SIGTERM the run stops reading its input,
/// cancels the session, writes every file, and exits with 130 (SIGINT) or
/// 143 (SIGTERM). A second signal stops at once (a node call may hold the
/// session): the WAV file is finalized with the audio written so far, the
/// metrics are not written and the trace is left without its closing
/// brackets.
pub fn run(engine: &Engine, args: RunArgs) -> ExitCode {
    match execute(engine, &args) {
        Ok(Ended::Done) => ExitCode::SUCCESS,
        Ok(Ended::Failed(message)) | Err(message) => {
            eprintln!("error: {}", for_terminal(&message));
            ExitCode::FAILURE
        }
        Ok(Ended::Interrupted(status, failure)) => {
            if let Some(message) = failure {
                eprintln!("error: {}", for_terminal(&message));
            }
            eprintln!("interrupted: stopped reading the input and cancelled; the files hold what was processed");
            ExitCode::from(status)
        }
    }
}

/// `message` with its control characters escaped, newlines (which separate
/// its lines) aside: paths and node messages come from users.
pub(crate) fn for_terminal(message: &str) -> String {
    message
        .split('\n')
        .map(|line| escaped(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn execute(engine: &Engine, args: &RunArgs) -> Result<Ended, String> {
    let stdin = args.input.as_os_str() == "-";
    let mut files = vec![Role {
        name: "the manifest",
        path: &args.manifest,
        written: false,
    }];
    if !stdin {
        files.push(Role {
            name: "--input",
            path: &args.input,
            written: false,
        });
    }
    for (name, path) in [
        ("--output", &args.output),
        ("--metrics", &args.metrics),
        ("--trace", &args.trace),
    ] {
        if let Some(path) = path {
            files.push(Role {
                name,
                path,
                written: true,
            });
        }
    }
    check_distinct(&files)?;
    let mut manifest = Manifest::from_path(&args.manifest).map_err(|e| manifest_message(&args.manifest, &e))?;
    if args.remote.remote.is_some() {
        manifest = remote_pipeline::wrap(&manifest, &args.remote, 3)?;
    }
    let pipeline = engine
        .compile(manifest)
        .map_err(|e| manifest_message(&args.manifest, &e))?;
    if let Some(id) = &args.output_node {
        check_output_node(&pipeline, id)?;
    }
    let mut decoder = if stdin {
        MediaDecoder::from_reader(Box::new(std::io::stdin()), "-", 1)
    } else {
        MediaDecoder::open(&args.input, 1)
    }
    .map_err(|e| escaped(&e.to_string()).into_owned())?;
    let rate = decoder.info().sample_rate;
    decoder.set_chunk_frames((u64::from(rate) * u64::from(args.chunk_ms)).div_ceil(1000) as usize);
    let options = RunOptions {
        metrics: args.metrics.is_some(),
        trace: false,
    };
    let mut graph_run =
        GraphRun::with_options(Arc::clone(&pipeline), options).map_err(|e| manifest_message(&args.manifest, &e))?;
    if let Some(path) = &args.trace {
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        graph_run
            .trace_to(Box::new(file))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }

    // Two workers: the session's task may sit in a slow node call while the
    // main task keeps writing outputs and watching for signals.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let ended = runtime.block_on(stream(graph_run, decoder, args));
    // A second signal may leave the session's task inside a node call:
    // do not wait for it.
    runtime.shutdown_background();
    ended
}

/// Streams the input through the session, writes its outputs, then the
/// metrics; see [`run`] for what ends it.
async fn stream(graph_run: GraphRun, mut decoder: MediaDecoder, args: &RunArgs) -> Result<Ended, String> {
    let frames = decoder.info().frames;
    let rate = decoder.info().sample_rate;
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let progress = progress_bar(frames);
    let config = SessionConfig {
        run: RunOptions {
            metrics: args.metrics.is_some(),
            trace: false,
        },
        ..SessionConfig::default()
    };
    let (tx, mut rx) = Session::spawn(graph_run, config).split();
    let bar = progress.clone();
    let producer = tokio::spawn(async move {
        for chunk in decoder.by_ref() {
            let chunk = chunk.map_err(|e| escaped(&e.to_string()).into_owned())?;
            bar.inc(chunk.frames() as u64);
            if tx.send(RuntimeData::Audio(chunk)).await.is_err() {
                break;
            }
        }
        // A cut input fails the run once what it held went through; other
        // warnings (packets skipped) are printed.
        for w in decoder.warnings() {
            if Some(w.as_str()) != decoder.truncated() {
                bar.suspend(|| eprintln!("warning: {}", escaped(w)));
            }
        }
        match decoder.truncated() {
            Some(t) => Err(escaped(t).into_owned()),
            None => Ok::<(), String>(()),
        }
    });
    let mut out = Outputs::new(args.output.as_deref(), args.output_node.clone());
    out.input = frames.map(|f| (f, rate));
    let mut failure: Option<String> = None;
    let mut interrupted: Option<u8> = None;
    loop {
        let status = tokio::select! {
            item = rx.recv() => match item {
                None => break,
                Some(Ok(o)) => {
                    if failure.is_none()
                        && let Err(e) = out.handle(o) {
                            // Stop reading and cancel: nothing more can be written.
                            failure = Some(e);
                            producer.abort();
                            rx.cancel();
                        }
                    continue;
                }
                Some(Err(e)) => {
                    failure.get_or_insert(e.to_string());
                    continue;
                }
            },
            _ = sigint.recv() => EXIT_SIGINT,
            _ = sigterm.recv() => EXIT_SIGTERM,
        };
        if interrupted.is_some() {
            // The second signal: stop now, with the audio written so far.
            progress.finish_and_clear();
            if let Err(e) = out.finish() {
                failure.get_or_insert(e);
            }
            let mut note = "interrupted again: metrics and trace not written".to_owned();
            if let Some(f) = failure {
                note = format!("{f}\n{note}");
            }
            return Ok(Ended::Interrupted(status, Some(note)));
        }
        interrupted = Some(status);
        producer.abort();
        rx.cancel();
    }
    progress.finish_and_clear();
    match producer.await {
        Ok(Err(e)) => {
            failure.get_or_insert(e);
        }
        Err(e) if !e.is_cancelled() => {
            failure.get_or_insert(format!("reader task failed: {e}"));
        }
        _ => {}
    }
    if let Err(e) = out.finish() {
        failure.get_or_insert(e);
    }
    if let (Some(path), Some(metrics)) = (&args.metrics, rx.metrics())
        && let Err(e) = std::fs::write(path, metrics.to_json())
    {
        failure.get_or_insert(format!("{}: {e}", path.display()));
    }
    if let (Some(path), Some(e)) = (&args.trace, rx.trace_error()) {
        failure.get_or_insert(format!("{}: {e}", path.display()));
    }
    Ok(match (interrupted, failure) {
        (Some(status), failure) => Ended::Interrupted(status, failure),
        (None, Some(message)) => Ended::Failed(message),
        (None, None) => Ended::Done,
    })
}

/// Refuses an `--output-node` that is not a sink of `pipeline`.
pub(crate) fn check_output_node(pipeline: &remotemedia_core::Pipeline, id: &str) -> Result<(), String> {
    let g = pipeline.graph();
    if g.sinks().any(|i| g.id(i) == id) {
        return Ok(());
    }
    let sinks: Vec<&str> = g.sinks().map(|i| g.id(i)).collect();
    Err(format!(
        "--output-node {} is not a sink; sinks: {}",
        quoted(id),
        sinks.join(", ")
    ))
}

pub(crate) fn manifest_message(path: &std::path::Path, e: &remotemedia_core::ManifestError) -> String {
    let lines: Vec<String> = e.problems().iter().map(|p| format!("  {p}")).collect();
    format!("{}: invalid manifest\n{}", path.display(), lines.join("\n"))
}

fn progress_bar(frames: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(frames, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed_precise} ETA {eta}") {
        bar.set_style(style);
    }
    bar
}

/// Where sink outputs go: audio of the output sink to the WAV file,
/// everything else to stdout as JSON lines (or, for `batch`, kept: see
/// [`Outputs::collecting`]).
///
/// VAD results that decide no frame and close no segment (the detector holds
/// its decisions back for a few frames) print no line. When stdout is closed
/// early (`remotemedia run ... | head`), lines stop but the run goes on, so the
/// WAV output and the metrics are still complete.
pub(crate) struct Outputs {
    wav: Option<WavSink>,
    /// The JSON lines, when kept rather than printed.
    collected: Option<Vec<Value>>,
    audio_node: Option<Arc<str>>,
    stdout: std::io::BufWriter<std::io::Stdout>,
    stdout_closed: bool,
    /// Whether writing the WAV file failed (the run then stops).
    wav_failed: bool,
    /// Whether audio reached the WAV sink.
    wav_started: bool,
    /// Frames and rate of the input: the output is expected to last as
    /// long (every node we ship keeps the duration), which lets a stream
    /// too long for a WAV file be refused before it is written.
    pub(crate) input: Option<(u64, u32)>,
}

impl Outputs {
    fn new(path: Option<&std::path::Path>, node: Option<String>) -> Self {
        Self {
            wav: path.map(WavSink::new),
            collected: None,
            audio_node: node.map(Arc::from),
            stdout: std::io::BufWriter::new(std::io::stdout()),
            stdout_closed: false,
            wav_failed: false,
            wav_started: false,
            input: None,
        }
    }

    /// Outputs that keep their JSON lines (see [`Self::take_lines`]) instead
    /// of printing them, and write no warning when no audio came.
    pub(crate) fn collecting(path: Option<&std::path::Path>, node: Option<String>) -> Self {
        Self {
            collected: Some(Vec::new()),
            ..Self::new(path, node)
        }
    }

    /// The JSON lines kept so far.
    pub(crate) fn take_lines(&mut self) -> Vec<Value> {
        self.collected.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Prints one JSON line, unless stdout has been closed by its reader.
    fn print(&mut self, line: &Value) -> Result<(), String> {
        if let Some(lines) = &mut self.collected {
            lines.push(line.clone());
            return Ok(());
        }
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

    pub(crate) fn handle(&mut self, o: SinkOutput) -> Result<(), String> {
        let mut line = json!({"node": &*o.node_id, "kind": o.data.kind()});
        if let (Some(wav), Some(audio)) = (self.wav.as_mut(), o.data.audio()) {
            let chosen = self.audio_node.get_or_insert_with(|| Arc::clone(&o.node_id));
            if *chosen == o.node_id {
                let first = !self.wav_started;
                self.wav_started = true;
                let expected = self.input.map(|(frames, rate)| {
                    (u128::from(frames) * u128::from(audio.sample_rate())).div_ceil(u128::from(rate.max(1))) as u64
                });
                let checked = match expected {
                    Some(frames) if first => wav.check_fits(audio, frames),
                    _ => Ok(()),
                };
                if let Err(e) = checked.and_then(|()| wav.write(audio)) {
                    self.wav_failed = true;
                    return Err(e.to_string());
                }
                if let Some(annotation) = o.data.annotation()
                    && !annotation.is_empty()
                {
                    extend(&mut line, annotation.to_json());
                    self.print(&line)?;
                }
                return Ok(());
            }
        }
        match &o.data {
            RuntimeData::Audio(a) => extend(&mut line, json!({"audio": describe(a)})),
            RuntimeData::Annotated { annotation, .. } if annotation.is_empty() => return Ok(()),
            RuntimeData::Annotated { audio, annotation } => {
                extend(&mut line, annotation.to_json());
                extend(&mut line, json!({"audio": describe(audio)}));
            }
            RuntimeData::Json(v) => extend(&mut line, json!({"value": v})),
            RuntimeData::Text(t) => extend(&mut line, json!({"value": &**t})),
            RuntimeData::Bytes(b) => extend(&mut line, json!({"len": b.len()})),
            RuntimeData::Opaque(_) => {}
        }
        self.print(&line)
    }

    /// Flushes stdout and finishes the WAV file; returns whether it holds audio.
    pub(crate) fn finish(mut self) -> Result<bool, String> {
        match self.stdout.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(format!("stdout: {e}")),
            _ => {}
        }
        let Some(wav) = self.wav.take() else {
            return Ok(false);
        };
        let written = wav.finish().map_err(|e| e.to_string())?;
        if !written && !self.wav_failed && self.collected.is_none() {
            eprintln!("warning: no sink produced audio; no output file was written");
        }
        Ok(written)
    }
}

fn describe(a: &AudioData) -> Value {
    json!({"frames": a.frames(), "channels": a.channels(), "sample_rate": a.sample_rate(), "format": a.format().name()})
}

fn extend(line: &mut Value, more: Value) {
    if let (Some(l), Value::Object(m)) = (line.as_object_mut(), more) {
        l.extend(m);
    }
}
