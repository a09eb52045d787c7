//! The files one `remotemedia run` reads and writes must be distinct.
//!
//! Writing the output over the input destroys the input while it is being
//! read; writing the metrics over the output destroys the audio. Two paths
//! name the same file when they resolve to it: the same spelling, a
//! different spelling (`./a.wav`, `dir/../a.wav`), a symbolic link or a
//! hard link (same device and inode). Such a run is refused before any
//! file is touched.

use std::path::{Path, PathBuf};

/// One file of the run: its role (a command-line flag) and path.
pub struct Role<'a> {
    /// How the user named it: `--input`, `--output`, `the manifest`...
    pub name: &'static str,
    /// The path given.
    pub path: &'a Path,
    /// Whether the run writes it.
    pub written: bool,
}

/// Refuses a run where a written file is also another of its files.
pub fn check_distinct(files: &[Role<'_>]) -> Result<(), String> {
    for (i, a) in files.iter().enumerate() {
        for b in &files[i + 1..] {
            if (a.written || b.written) && same_file(a.path, b.path) {
                let (w, other) = if b.written { (b, a) } else { (a, b) };
                return Err(format!(
                    "{} {} is the same file as {} {}; refusing to run (it would be overwritten)",
                    w.name,
                    w.path.display(),
                    other.name,
                    other.path.display()
                ));
            }
        }
    }
    Ok(())
}

/// Whether `a` and `b` are, or once created will be, the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    // Both exist: the device and inode decide (links and spellings alike).
    if let Ok(same) = same_file::is_same_file(a, b) {
        return same;
    }
    // One at least does not exist yet: the same file once written if both
    // resolve to the same place.
    resolve(a) == resolve(b)
}

/// Where a path leads: canonical if it exists; else its canonical parent
/// joined with its name, following symbolic links that point nowhere yet
/// (creating the link's path creates its target), at most 40 of them like
/// the kernel (a loop of links resolves to where the count ran out).
fn resolve(path: &Path) -> PathBuf {
    let mut path = path.to_owned();
    for _ in 0..40 {
        if let Ok(p) = path.canonicalize() {
            return p;
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let parent = parent.canonicalize().unwrap_or(parent);
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        match std::fs::read_link(&path) {
            Ok(target) if is_link => path = parent.join(target),
            _ => return path.file_name().map_or(parent.clone(), |name| parent.join(name)),
        }
    }
    path
}
