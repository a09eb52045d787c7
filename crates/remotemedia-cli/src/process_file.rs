//! One input file of a batch through a pipeline: the unit of work shared by
//! `remotemedia batch` and the Python package (`remotemedia.ray` calls it
//! through the extension), so both write the same bytes.
//!
//! The file is decoded in chunks of `chunk_ms` and pushed, as
//! `remotemedia run` pushes its input, through a fresh instance of the
//! pipeline; the audio of the output sink
//! goes to a WAV file at the input's mirrored path, every other output is
//! kept as the JSON that `run` prints. The WAV file is written under a
//! temporary name in its folder and renamed once complete: a file at the
//! final name is always whole. A file that fails leaves no output, only its
//! [`FileRecord`] saying why.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use remotemedia_core::printable::escaped;
use remotemedia_core::{GraphRun, Pipeline, RunOptions, RuntimeData};
use remotemedia_media::MediaDecoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::inputs::{Input, output_path};
use crate::run::Outputs;

/// The chunk length `batch` and `remotemedia.ray` decode in by default, in
/// milliseconds: longer than `run`'s 20 (no listener waits for the first
/// output, and fewer, longer calls cost less per second of audio: the
/// speech-prep pipeline's outputs are the same at 20 and 1000 ms, see the
/// batch tests) while memory stays that of one second of audio.
pub const DEFAULT_CHUNK_MS: u32 = 1000;

/// How every file of a batch is processed.
#[derive(Debug, Clone)]
pub struct FileOptions {
    /// Chunk length in milliseconds.
    pub chunk_ms: u32,
    /// The sink whose audio is written (default: the first that emits audio).
    pub output_node: Option<String>,
}

/// How a file went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Processed; its outputs are written.
    Ok,
    /// Not processed; `error` says why and no output was written.
    Failed,
}

/// One output file written for an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// Path relative to the output folder.
    pub path: String,
    /// Its size in bytes (what a complete file holds).
    pub bytes: u64,
}

/// One row of the batch index (`index.jsonl`): what happened to one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The input file as found.
    pub input: String,
    /// Its path relative to the inputs' common folder (the key of the row).
    pub relative: String,
    /// Whether it went through.
    pub status: Status,
    /// Why it failed.
    pub error: Option<String>,
    /// Seconds of input audio decoded.
    pub duration_s: f64,
    /// The input's sample rate (0 when it could not be opened).
    pub sample_rate: u32,
    /// The input's channels (0 when it could not be opened).
    pub channels: usize,
    /// The files written (none for a failed input).
    pub outputs: Vec<OutputFile>,
    /// Speech segments the pipeline's VAD results completed, in order
    /// (`start`, `end` in seconds, `energy_db`).
    pub segments: Vec<Value>,
    /// Every other non-audio output, as `remotemedia run` prints it.
    pub results: Vec<Value>,
    /// Wall time spent on the file, in seconds.
    pub elapsed_s: f64,
}

impl FileRecord {
    /// Seconds of wall time per second of audio (0 for no audio).
    pub fn real_time_factor(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.elapsed_s / self.duration_s
        } else {
            0.0
        }
    }
}

/// Processes `input` through a fresh instance of `pipeline`, writing its
/// audio under `output_dir`. Returns `None`, having written nothing, when
/// `stop` was set before it finished.
pub async fn process_file(
    pipeline: &Arc<Pipeline>,
    input: &Input,
    output_dir: &Path,
    options: &FileOptions,
    stop: &AtomicBool,
) -> Option<FileRecord> {
    let started = Instant::now();
    let mut record = FileRecord {
        input: input.path.display().to_string(),
        relative: input.relative.display().to_string(),
        status: Status::Ok,
        error: None,
        duration_s: 0.0,
        sample_rate: 0,
        channels: 0,
        outputs: Vec::new(),
        segments: Vec::new(),
        results: Vec::new(),
        elapsed_s: 0.0,
    };
    let result = run_file(pipeline, input, output_dir, options, stop, &mut record).await;
    record.elapsed_s = started.elapsed().as_secs_f64();
    match result {
        Ok(true) => Some(record),
        Ok(false) => None,
        Err(e) => {
            record.status = Status::Failed;
            record.error = Some(e);
            record.outputs.clear();
            Some(record)
        }
    }
}

/// Fills `record`; false when stopped.
async fn run_file(
    pipeline: &Arc<Pipeline>,
    input: &Input,
    output_dir: &Path,
    options: &FileOptions,
    stop: &AtomicBool,
    record: &mut FileRecord,
) -> Result<bool, String> {
    let mut decoder = MediaDecoder::open(&input.path, 1).map_err(|e| escaped(&e.to_string()).into_owned())?;
    let info = decoder.info().clone();
    record.sample_rate = info.sample_rate;
    record.channels = info.channels;
    decoder.set_chunk_frames((u64::from(info.sample_rate) * u64::from(options.chunk_ms)).div_ceil(1000) as usize);

    let target = output_path(output_dir, input, "wav");
    let folder = target.parent().unwrap_or(output_dir);
    std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    // Removed when dropped unless renamed: a failed or stopped file leaves
    // nothing behind.
    let temp = tempfile::Builder::new()
        .prefix(".remotemedia-")
        .suffix(".part")
        .tempfile_in(folder)
        .map_err(|e| format!("{}: cannot create a file: {e}", folder.display()))?;

    let run_options = RunOptions {
        metrics: false,
        trace: false,
    };
    let mut graph_run = GraphRun::with_options(Arc::clone(pipeline), run_options).map_err(|e| e.to_string())?;
    let mut out = Outputs::collecting(Some(temp.path()), options.output_node.clone());
    out.input = info.frames.map(|f| (f, info.sample_rate));
    let mut emitted = Vec::new();
    for chunk in decoder.by_ref() {
        if stop.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let chunk = chunk.map_err(|e| escaped(&e.to_string()).into_owned())?;
        graph_run
            .push(RuntimeData::Audio(chunk), &mut emitted)
            .await
            .map_err(|e| e.to_string())?;
        for o in emitted.drain(..) {
            out.handle(o)?;
        }
    }
    if let Some(t) = decoder.truncated() {
        return Err(escaped(t).into_owned());
    }
    graph_run.flush(&mut emitted).await.map_err(|e| e.to_string())?;
    for o in emitted.drain(..) {
        out.handle(o)?;
    }
    record.duration_s = decoder.frames_decoded() as f64 / f64::from(info.sample_rate.max(1));
    for line in out.take_lines() {
        split_line(line, record);
    }
    if out.finish()? {
        let bytes = temp
            .as_file()
            .metadata()
            .map_err(|e| format!("{}: {e}", temp.path().display()))?
            .len();
        temp.persist(&target)
            .map_err(|e| format!("{}: cannot rename the finished file: {}", target.display(), e.error))?;
        record.outputs.push(OutputFile {
            path: input.relative.with_extension("wav").display().to_string(),
            bytes,
        });
    }
    Ok(true)
}

/// Files one JSON line of outputs: VAD results give their segments, any
/// other output is kept whole.
fn split_line(mut line: Value, record: &mut FileRecord) {
    if line.get("kind").and_then(Value::as_str) == Some("vad") {
        if let Some(Value::Array(segments)) = line.get_mut("segments").map(Value::take) {
            record.segments.extend(segments);
        }
    } else {
        record.results.push(line);
    }
}
