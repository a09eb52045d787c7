//! The progress bar of `remotemedia batch`: files done, hours of audio,
//! real-time factor and time left, drawn on stderr only when it is a
//! terminal (hidden otherwise: logs and pipes get the final summary only).

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::process_file::FileRecord;

/// Progress over the files of a batch.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    audio_s: f64,
}

impl Progress {
    /// A bar over `files` files.
    pub fn new(files: u64) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(files), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} files, {msg}, {elapsed_precise}, ETA {eta}")
            {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            bar,
            started: Instant::now(),
            audio_s: 0.0,
        }
    }

    /// Counts a finished file.
    pub fn file_done(&mut self, record: &FileRecord) {
        self.audio_s += record.duration_s;
        let wall = self.started.elapsed().as_secs_f64();
        let rtf = if self.audio_s > 0.0 { wall / self.audio_s } else { 0.0 };
        self.bar.set_message(format!(
            "{:.2} h of audio, real-time factor {rtf:.4}",
            self.audio_s / 3600.0
        ));
        self.bar.inc(1);
    }

    /// Prints a line on stderr above the bar.
    pub fn println(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
