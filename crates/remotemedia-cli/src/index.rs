//! The batch index: `index.jsonl` in the output folder, one JSON
//! [`FileRecord`] a line, appended as each input finishes.
//!
//! An input is *complete* when the index holds a row for its relative path
//! with status `ok` whose every output file exists with the size recorded.
//! `--resume` skips complete inputs and processes the others again. A line
//! that does not parse (the last one, cut by a killed run) is not a row; on
//! resume the index is rewritten (under a temporary name, then renamed)
//! with the complete rows only, so a file processed again has one row.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::process_file::{FileRecord, Status};

/// The index's file name in the output folder.
pub const INDEX_NAME: &str = "index.jsonl";

/// The index path of an output folder.
pub fn index_path(output_dir: &Path) -> PathBuf {
    output_dir.join(INDEX_NAME)
}

/// The complete rows of an existing index, by relative path (none when
/// there is no index).
pub fn complete_rows(output_dir: &Path) -> Result<HashMap<String, FileRecord>, String> {
    let path = index_path(output_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut rows = HashMap::new();
    for line in text.lines() {
        if let Ok(row) = serde_json::from_str::<FileRecord>(line)
            && is_complete(output_dir, &row)
        {
            rows.insert(row.relative.clone(), row);
        }
    }
    Ok(rows)
}

/// Whether `row` says its input went through and its outputs are all there.
pub fn is_complete(output_dir: &Path, row: &FileRecord) -> bool {
    row.status == Status::Ok
        && row
            .outputs
            .iter()
            .all(|o| std::fs::metadata(output_dir.join(&o.path)).is_ok_and(|m| m.is_file() && m.len() == o.bytes))
}

/// Replaces the index with `rows`, atomically.
pub fn rewrite(output_dir: &Path, rows: &[&FileRecord]) -> Result<(), String> {
    let path = index_path(output_dir);
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut temp = tempfile::Builder::new()
        .prefix(".index-")
        .suffix(".part")
        .tempfile_in(output_dir)
        .map_err(|e| fail(&e))?;
    for row in rows {
        writeln!(temp, "{}", line(row)).map_err(|e| fail(&e))?;
    }
    temp.as_file().sync_all().map_err(|e| fail(&e))?;
    temp.persist(&path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// The index open for appending rows.
pub struct IndexWriter {
    file: std::fs::File,
    path: PathBuf,
}

impl IndexWriter {
    /// Opens (creating) the index of `output_dir` for appending.
    pub fn open(output_dir: &Path) -> Result<Self, String> {
        let path = index_path(output_dir);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { file, path })
    }

    /// Appends one row, in one write (a killed run cuts at most the last line).
    pub fn append(&mut self, row: &FileRecord) -> Result<(), String> {
        let mut text = line(row);
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

fn line(row: &FileRecord) -> String {
    serde_json::to_string(row).expect("a record serializes")
}
