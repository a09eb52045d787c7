//! `remotemedia batch`: every file of a corpus through a pipeline, files in
//! parallel.
//!
//! The pipeline is compiled once; `--jobs` worker threads (default: the
//! cores available) each take the next input, run it through a fresh
//! instance ([`process_file`]) and hand its row to the main thread, which
//! appends it to the index and moves the progress bar. Outputs mirror the
//! inputs ([`crate::inputs`]); the index and what counts as complete are in
//! [`crate::index`]. A file that fails is recorded with its error and the
//! others go on. The last line on stdout is a JSON summary.
//!
//! Exit status: 0 when every file went through, 1 when any failed (or the
//! batch could not start), 130/143 when SIGINT/SIGTERM stopped it. On a
//! signal no new file is started and the files in flight are abandoned at
//! their next chunk, leaving no output (their rows are not written); the
//! index holds every file finished, and `--resume` processes the rest.
//!
//! Without `--resume`, an output folder that already holds an index or any
//! of the outputs is refused: nothing is overwritten silently.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use clap::Args;
use remotemedia_core::{Engine, Manifest, Pipeline};
use serde_json::json;
use tokio::sync::mpsc;

use crate::index::{self, IndexWriter};
use crate::inputs::{Input, list_inputs, output_path};
use crate::process_file::{DEFAULT_CHUNK_MS, FileOptions, FileRecord, Status, process_file};
use crate::progress::Progress;
use crate::run::{check_output_node, for_terminal, manifest_message};

/// Arguments of `remotemedia batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The manifest (JSON, or YAML for .yaml/.yml).
    manifest: PathBuf,
    /// The inputs: a directory (every audio file under it), a glob pattern
    /// (quote it), a single file, or @list.txt (one path a line).
    #[arg(long, short)]
    input: String,
    /// The output folder: each input's audio at its path relative to the
    /// inputs' common folder (as .wav), and index.jsonl, a row per input.
    #[arg(long, short)]
    output: PathBuf,
    /// Files processed at once (default: the cores available).
    #[arg(long, short)]
    jobs: Option<NonZeroUsize>,
    /// Finish an earlier batch into the same --output: skip the inputs whose
    /// row says ok and whose outputs are all there, process the others.
    #[arg(long)]
    resume: bool,
    /// The sink whose audio is written (default: the first sink that emits
    /// audio).
    #[arg(long)]
    output_node: Option<String>,
    /// Chunk length in milliseconds.
    #[arg(long, default_value_t = DEFAULT_CHUNK_MS, value_parser = clap::value_parser!(u32).range(1..=60_000))]
    chunk_ms: u32,
}

/// Exit status of a batch stopped by SIGINT (128 + 2, as shells report it).
const EXIT_SIGINT: u8 = 130;
/// Exit status of a batch stopped by SIGTERM (128 + 15).
const EXIT_SIGTERM: u8 = 143;

/// Runs the command; prints errors on stderr and the summary on stdout.
pub fn batch(engine: &Engine, args: BatchArgs) -> ExitCode {
    match execute(engine, &args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {}", for_terminal(&message));
            ExitCode::FAILURE
        }
    }
}

/// What the main thread counts while the workers run.
#[derive(Default)]
struct Tally {
    ok: usize,
    failed: usize,
    audio_s: f64,
    /// A signal's exit status, once one came.
    interrupted: Option<u8>,
    /// Why the batch itself had to stop (the index could not be written).
    fatal: Option<String>,
}

fn execute(engine: &Engine, args: &BatchArgs) -> Result<ExitCode, String> {
    let manifest = Manifest::from_path(&args.manifest).map_err(|e| manifest_message(&args.manifest, &e))?;
    let pipeline = engine
        .compile(manifest)
        .map_err(|e| manifest_message(&args.manifest, &e))?;
    if let Some(id) = &args.output_node {
        check_output_node(&pipeline, id)?;
    }
    let inputs = list_inputs(&args.input, Some(&args.output))?;
    prepare_output(&args.output)?;
    let (todo, skipped) = plan(&inputs, &args.output, args.resume)?;

    let jobs = args
        .jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get)
        .min(todo.len().max(1));
    let options = FileOptions {
        chunk_ms: args.chunk_ms,
        output_node: args.output_node.clone(),
    };
    let started = Instant::now();
    let tally = run_workers(&pipeline, &todo, &args.output, &options, jobs)?;
    let elapsed = started.elapsed().as_secs_f64();

    let not_done = todo.len() - tally.ok - tally.failed;
    let summary = json!({
        "files": inputs.len(),
        "ok": tally.ok,
        "failed": tally.failed,
        "skipped": skipped,
        "not_done": not_done,
        "audio_hours": tally.audio_s / 3600.0,
        "elapsed_s": elapsed,
        "audio_hours_per_second": if elapsed > 0.0 { tally.audio_s / 3600.0 / elapsed } else { 0.0 },
        "jobs": jobs,
        "index": index::index_path(&args.output).display().to_string(),
        "interrupted": tally.interrupted.is_some(),
    });
    println!("{summary}");
    let fatal = tally.fatal.or_else(|| {
        (tally.interrupted.is_none() && not_done > 0)
            .then(|| format!("{not_done} file(s) were not processed: a worker could not start"))
    });
    if let Some(message) = fatal {
        eprintln!("error: {}", for_terminal(&message));
        return Ok(ExitCode::FAILURE);
    }
    if let Some(status) = tally.interrupted {
        eprintln!("interrupted: {not_done} file(s) not processed; run again with --resume to finish");
        return Ok(ExitCode::from(status));
    }
    if tally.failed > 0 {
        eprintln!(
            "error: {} of {} file(s) failed; see {}",
            tally.failed,
            todo.len(),
            index::index_path(&args.output).display()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates the output folder and checks that files can be made there.
fn prepare_output(output: &Path) -> Result<(), String> {
    std::fs::create_dir_all(output).map_err(|e| format!("--output {}: cannot create it: {e}", output.display()))?;
    tempfile::Builder::new()
        .prefix(".remotemedia-probe-")
        .tempfile_in(output)
        .map_err(|e| format!("--output {}: cannot write there: {e}", output.display()))?;
    Ok(())
}

/// The inputs to process and how many are skipped as complete. Without
/// `resume`, refuses an output folder holding an index or an output;
/// with it, rewrites the index with its complete rows.
fn plan(inputs: &[Input], output: &Path, resume: bool) -> Result<(Vec<Input>, usize), String> {
    let index_path = index::index_path(output);
    if !resume {
        if index_path.exists() {
            return Err(format!(
                "--output {}: it holds an earlier batch ({}); pass --resume to finish it, or choose another folder",
                output.display(),
                index::INDEX_NAME
            ));
        }
        if let Some(existing) = inputs
            .iter()
            .map(|i| output_path(output, i, "wav"))
            .find(|p| p.exists())
        {
            return Err(format!(
                "--output {}: {} already exists; refusing to overwrite it (choose another folder)",
                output.display(),
                existing.display()
            ));
        }
        return Ok((inputs.to_vec(), 0));
    }
    let complete = index::complete_rows(output)?;
    let mut kept: Vec<&FileRecord> = complete.values().collect();
    kept.sort_by(|a, b| a.relative.cmp(&b.relative));
    index::rewrite(output, &kept)?;
    let todo: Vec<Input> = inputs
        .iter()
        .filter(|i| !complete.contains_key(&i.relative.display().to_string()))
        .cloned()
        .collect();
    let skipped = inputs.len() - todo.len();
    Ok((todo, skipped))
}

/// Runs `jobs` workers over `todo`; the calling thread writes the index
/// and watches for signals.
fn run_workers(
    pipeline: &Arc<Pipeline>,
    todo: &[Input],
    output: &Path,
    options: &FileOptions,
    jobs: usize,
) -> Result<Tally, String> {
    let mut writer = IndexWriter::open(output)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let (tx, mut rx) = mpsc::unbounded_channel::<FileRecord>();
    let mut progress = Progress::new(todo.len() as u64);
    let mut tally = Tally::default();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (stop, next) = (&stop, &next);
            scope.spawn(move || worker(pipeline, todo, output, options, stop, next, &tx));
        }
        drop(tx);
        runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut sigint = signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"));
            let mut sigterm = signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"));
            if let Err(e) = sigint.as_ref().and(sigterm.as_ref()) {
                tally.fatal = Some(e.clone());
                stop.store(true, Ordering::Relaxed);
            }
            loop {
                let status = tokio::select! {
                    record = rx.recv() => match record {
                        None => break,
                        Some(record) => {
                            take(&mut tally, &mut progress, &mut writer, &record, &stop);
                            continue;
                        }
                    },
                    Some(()) = async { sigint.as_mut().ok()?.recv().await } => EXIT_SIGINT,
                    Some(()) = async { sigterm.as_mut().ok()?.recv().await } => EXIT_SIGTERM,
                };
                tally.interrupted.get_or_insert(status);
                stop.store(true, Ordering::Relaxed);
            }
        });
    });
    progress.finish();
    Ok(tally)
}

/// One finished file: its row to the index, the counts, the bar.
fn take(tally: &mut Tally, progress: &mut Progress, writer: &mut IndexWriter, record: &FileRecord, stop: &AtomicBool) {
    if let Err(e) = writer.append(record) {
        tally.fatal.get_or_insert(e);
        stop.store(true, Ordering::Relaxed);
        return;
    }
    match record.status {
        Status::Ok => tally.ok += 1,
        Status::Failed => {
            tally.failed += 1;
            let error = record.error.as_deref().unwrap_or("failed");
            let line = if error.contains(&record.input) {
                format!("error: {}", for_terminal(error))
            } else {
                format!("error: {}: {}", record.input, for_terminal(error))
            };
            progress.println(&line);
        }
    }
    tally.audio_s += record.duration_s;
    progress.file_done(record);
}

/// A worker: takes the next input until none is left or `stop` is set.
fn worker(
    pipeline: &Arc<Pipeline>,
    todo: &[Input],
    output: &Path,
    options: &FileOptions,
    stop: &AtomicBool,
    next: &AtomicUsize,
    tx: &mpsc::UnboundedSender<FileRecord>,
) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return;
    };
    while !stop.load(Ordering::Relaxed) {
        let Some(input) = todo.get(next.fetch_add(1, Ordering::Relaxed)) else {
            return;
        };
        match runtime.block_on(process_file(pipeline, input, output, options, stop)) {
            Some(record) => {
                if tx.send(record).is_err() {
                    return;
                }
            }
            None => return,
        }
    }
}
