//! The input files of a batch, and where each one's outputs go.
//!
//! `--input` is one of:
//! - a directory: every file under it (recursively, following symbolic
//!   links) whose extension is an audio one ([`AUDIO_EXTENSIONS`], any case);
//! - `@list.txt`: one path a line (blank lines and lines starting with `#`
//!   skipped; relative paths are relative to the list's folder);
//! - a glob pattern (`corpus/**/*.flac`): every file it matches;
//! - a single file.
//!
//! Outputs mirror the inputs: each input's outputs go under the output folder
//! at its path relative to the inputs' common folder (the directory itself
//! for a directory), with the extension of what is written (`a/x.mp3` ->
//! `a/x.wav`). The listing is refused, before anything runs, when it is
//! empty, when a directory walk meets a symbolic link loop or a path it
//! cannot read, when a file is listed twice, or when two inputs would write
//! the same output (`x.wav` and `x.flac` side by side): nothing is skipped
//! or overwritten silently.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Extensions (lower case) a directory walk takes as audio files: what the
/// decoder reads (`remotemedia_media`: WAV, FLAC, MP3, OGG/Vorbis, M4A/MP4,
/// MKV/WebM).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "m4a", "m4b", "mp4", "aac", "mka", "mkv", "webm",
];

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The file, as found (absolute).
    pub path: PathBuf,
    /// Its path relative to the inputs' common folder: where its outputs go
    /// under the output folder (with their own extension).
    pub relative: PathBuf,
}

/// Lists the inputs `spec` names (see the module docs); `exclude` (the
/// output folder) is not walked into, so outputs never become inputs.
pub fn list_inputs(spec: &str, exclude: Option<&Path>) -> Result<Vec<Input>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let exclude = exclude.map(|p| normalize(&cwd.join(p)));
    let inputs = if let Some(list) = spec.strip_prefix('@') {
        from_paths(&from_list(&cwd.join(list))?)?
    } else if Path::new(spec).is_dir() {
        from_dir(&normalize(&cwd.join(spec)), exclude.as_deref())?
    } else if Path::new(spec).is_file() {
        from_paths(&[normalize(&cwd.join(spec))])?
    } else if spec.contains(['*', '?', '[']) {
        from_paths(&from_glob(&cwd, spec, exclude.as_deref())?)?
    } else {
        return Err(format!("--input {spec}: no such file or directory"));
    };
    if inputs.is_empty() {
        let what = if Path::new(spec).is_dir() {
            format!(" (looked for the extensions {})", AUDIO_EXTENSIONS.join(", "))
        } else {
            String::new()
        };
        return Err(format!("--input {spec}: no input files{what}"));
    }
    check_outputs_distinct(&inputs, "wav")?;
    Ok(inputs)
}

/// Where the output of `input` with extension `ext` goes under `root`.
pub fn output_path(root: &Path, input: &Input, ext: &str) -> PathBuf {
    root.join(input.relative.with_extension(ext))
}

/// Every audio file under `dir`, sorted by path.
fn from_dir(dir: &Path, exclude: Option<&Path>) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| exclude.is_none_or(|x| e.path() != x));
    for entry in walk {
        let entry = entry.map_err(|e| walk_error(dir, &e))?;
        if entry.file_type().is_file() && is_audio(entry.path()) {
            let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path()).to_owned();
            inputs.push(Input {
                path: entry.path().to_owned(),
                relative,
            });
        }
    }
    Ok(inputs)
}

fn walk_error(dir: &Path, e: &walkdir::Error) -> String {
    let at = e
        .path()
        .map_or_else(|| dir.display().to_string(), |p| p.display().to_string());
    match e.loop_ancestor() {
        Some(ancestor) => format!(
            "--input {}: symbolic link loop at {at} (it leads back to {}); remove the link or list the files \
             with @list.txt",
            dir.display(),
            ancestor.display()
        ),
        None => {
            let cause = e.io_error().map_or_else(|| e.to_string(), ToString::to_string);
            format!("--input {}: cannot read {at}: {cause}", dir.display())
        }
    }
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The paths of a list file, each made absolute against the list's folder.
fn from_list(list: &Path) -> Result<Vec<PathBuf>, String> {
    let text = std::fs::read_to_string(list).map_err(|e| format!("--input @{}: {e}", list.display()))?;
    let base = list.parent().unwrap_or(Path::new("."));
    let mut paths = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let path = normalize(&base.join(line));
        if !path.is_file() {
            return Err(format!(
                "--input @{}: line {}: {line}: no such file",
                list.display(),
                n + 1
            ));
        }
        paths.push(path);
    }
    Ok(paths)
}

/// The files a glob pattern matches, sorted, but for those under `exclude`.
fn from_glob(cwd: &Path, pattern: &str, exclude: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    let absolute = cwd.join(pattern);
    let matches = glob::glob(&absolute.to_string_lossy()).map_err(|e| format!("--input {pattern}: {e}"))?;
    let mut paths = Vec::new();
    for m in matches {
        let path = m.map_err(|e| format!("--input {pattern}: cannot read {}: {}", e.path().display(), e.error()))?;
        let path = normalize(&path);
        if path.is_file() && exclude.is_none_or(|x| !path.starts_with(x)) {
            paths.push(path);
        }
    }
    Ok(paths)
}

/// Inputs named one by one: refused if one is named twice; relative to the
/// deepest folder holding them all.
fn from_paths(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    let mut seen: HashMap<PathBuf, &Path> = HashMap::new();
    for p in paths {
        let key = p.canonicalize().unwrap_or_else(|_| p.clone());
        if let Some(first) = seen.insert(key, p) {
            return Err(format!(
                "--input: {} and {} are the same file, listed twice",
                first.display(),
                p.display()
            ));
        }
    }
    let Some(first) = paths.first() else {
        return Ok(Vec::new());
    };
    let mut root = first.parent().unwrap_or(Path::new("/")).to_owned();
    for p in &paths[1..] {
        while !p.starts_with(&root) {
            if !root.pop() {
                break;
            }
        }
    }
    Ok(paths
        .iter()
        .map(|p| Input {
            path: p.clone(),
            relative: p.strip_prefix(&root).unwrap_or(p).to_owned(),
        })
        .collect())
}

/// Refuses inputs two of which would write the same output.
fn check_outputs_distinct(inputs: &[Input], ext: &str) -> Result<(), String> {
    let mut seen: HashMap<PathBuf, &Path> = HashMap::new();
    for input in inputs {
        if let Some(first) = seen.insert(input.relative.with_extension(ext), &input.path) {
            return Err(format!(
                "--input: {} and {} would both write {}; rename one or process them in separate batches",
                first.display(),
                input.path.display(),
                input.relative.with_extension(ext).display()
            ));
        }
    }
    Ok(())
}

/// `path` with `.` and `..` resolved lexically (symbolic links are kept:
/// outputs mirror the tree as the user sees it).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
