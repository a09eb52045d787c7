//! The edit list of an MP4/M4A file's audio track, which symphonia 0.5 reads
//! but does not apply: an AAC encoder's priming frames (1024 with ffmpeg's
//! and Apple's encoders) sit at the start of the decoded audio, and the
//! track's single edit says to skip them.
//!
//! Only what that needs is read, with positional reads over the file (the
//! decoder's read position is untouched): the boxes `moov/mvhd` (movie
//! timescale) and, for the first track whose handler is `soun`,
//! `mdia/mdhd` (media timescale) and `edts/elst`. Box sizes are checked
//! against their parents, the walk visits a bounded number of boxes, and
//! anything unexpected means "no edit" rather than an error: a file this
//! reader does not understand decodes as symphonia gives it.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// The most boxes looked at in one file (a real `moov` has a few dozen on
/// the path we walk; this bounds a hostile file's cost).
const MAX_BOXES: usize = 4096;

/// What a track's edit list keeps of its decoded audio, in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Frames to drop at the start (the encoder's priming).
    pub skip: u64,
    /// Frames to keep after those, when the edit says.
    pub keep: Option<u64>,
}

/// The edit of the first audio track of the MP4 file `file`, in frames at
/// `sample_rate`; `None` when the file is not MP4, has no edit list, or one
/// this reader does not apply (several non-empty edits, a rate other than
/// 1, an edit that skips nothing).
pub(crate) fn audio_edit(file: &File, sample_rate: u32) -> Option<Edit> {
    let len = file.metadata().ok()?.len();
    let mut walk = Walk { file, visited: 0 };
    let first = walk.boxes(0, len).next()?;
    if &first.kind != b"ftyp" {
        return None;
    }
    let moov = walk.child(0, len, b"moov")?;
    let mvhd = walk.child(moov.body, moov.end, b"mvhd")?;
    let (movie_scale, _) = timescale(&walk, mvhd)?;
    let tracks: Vec<BoxAt> = walk.boxes(moov.body, moov.end).filter(|b| &b.kind == b"trak").collect();
    let trak = tracks.into_iter().find(|t| walk.is_audio(t))?;
    let mdia = walk.child(trak.body, trak.end, b"mdia")?;
    let mdhd = walk.child(mdia.body, mdia.end, b"mdhd")?;
    let (media_scale, media_duration) = timescale(&walk, mdhd)?;
    let edts = walk.child(trak.body, trak.end, b"edts")?;
    let elst = walk.child(edts.body, edts.end, b"elst")?;
    let (media_time, duration) = single_edit(&walk, elst)?;
    let to_frames = |value: u64, scale: u32| -> u64 {
        (u128::from(value) * u128::from(sample_rate) / u128::from(scale))
            .try_into()
            .unwrap_or(u64::MAX)
    };
    let skip = to_frames(media_time, media_scale);
    // The edit's length counts in the movie's timescale (often ms); the
    // media's own duration is exact in its timescale. When the two agree
    // within one movie tick, the edit means "to the end of the media".
    let keep = (duration > 0).then(|| {
        let edit = to_frames(duration, movie_scale);
        let media = to_frames(media_duration.saturating_sub(media_time), media_scale);
        let tick = to_frames(1, movie_scale).max(1);
        if edit.abs_diff(media) <= tick { media } else { edit }
    });
    (skip > 0).then_some(Edit { skip, keep })
}

/// A box: its type and the byte range of its body.
#[derive(Debug, Clone, Copy)]
struct BoxAt {
    kind: [u8; 4],
    body: u64,
    end: u64,
}

struct Walk<'a> {
    file: &'a File,
    visited: usize,
}

impl Walk<'_> {
    fn read<const N: usize>(&self, at: u64) -> Option<[u8; N]> {
        let mut buf = [0u8; N];
        self.file.read_exact_at(&mut buf, at).ok()?;
        Some(buf)
    }

    /// The boxes laid end to end in `start..end`.
    fn boxes(&mut self, start: u64, end: u64) -> impl Iterator<Item = BoxAt> + '_ {
        let mut at = start;
        std::iter::from_fn(move || {
            if at + 8 > end || self.visited >= MAX_BOXES {
                return None;
            }
            self.visited += 1;
            let head: [u8; 8] = self.read(at)?;
            let size = u64::from(u32::from_be_bytes(head[..4].try_into().ok()?));
            let kind: [u8; 4] = head[4..].try_into().ok()?;
            let (body, size) = match size {
                0 => (at + 8, end - at),
                1 => (at + 16, u64::from_be_bytes(self.read(at + 8)?)),
                n => (at + 8, n),
            };
            let box_end = at.checked_add(size)?;
            if box_end > end || body > box_end {
                return None;
            }
            at = box_end;
            Some(BoxAt {
                kind,
                body,
                end: box_end,
            })
        })
    }

    fn child(&mut self, start: u64, end: u64, kind: &[u8; 4]) -> Option<BoxAt> {
        self.boxes(start, end).find(|b| &b.kind == kind)
    }

    /// True when `trak`'s media handler is `soun`.
    fn is_audio(&mut self, trak: &BoxAt) -> bool {
        let Some(mdia) = self.child(trak.body, trak.end, b"mdia") else {
            return false;
        };
        let Some(hdlr) = self.child(mdia.body, mdia.end, b"hdlr") else {
            return false;
        };
        // version and flags (4 bytes), pre_defined (4), handler_type (4)
        hdlr.end >= hdlr.body + 12 && self.read::<4>(hdlr.body + 8).is_some_and(|h| &h == b"soun")
    }
}

/// The timescale and duration of an `mvhd` or `mdhd` box (they share the
/// layout up to them).
fn timescale(walk: &Walk<'_>, header: BoxAt) -> Option<(u32, u64)> {
    let version = walk.read::<1>(header.body)?[0];
    // version and flags, then creation and modification times (4 or 8 bytes each)
    let at = header.body + if version == 1 { 20 } else { 12 };
    let end = at + if version == 1 { 12 } else { 8 };
    if end > header.end {
        return None;
    }
    let scale = u32::from_be_bytes(walk.read(at)?);
    let duration = if version == 1 {
        u64::from_be_bytes(walk.read(at + 4)?)
    } else {
        u64::from(u32::from_be_bytes(walk.read(at + 4)?))
    };
    (scale > 0).then_some((scale, duration))
}

/// `(media_time, segment_duration)` of the only non-empty edit of an `elst`
/// box played at rate 1; empty edits (media time -1) before it are ignored.
fn single_edit(walk: &Walk<'_>, elst: BoxAt) -> Option<(u64, u64)> {
    let version = walk.read::<1>(elst.body)?[0];
    let count = u64::from(u32::from_be_bytes(walk.read(elst.body + 4)?));
    let entry = if version == 1 { 20 } else { 12 };
    if elst.body + 8 + count.checked_mul(entry)? > elst.end {
        return None;
    }
    let mut found = None;
    for i in 0..count.min(16) {
        let at = elst.body + 8 + i * entry;
        let (duration, media_time, rate_at) = if version == 1 {
            let d = u64::from_be_bytes(walk.read(at)?);
            let t = i64::from_be_bytes(walk.read(at + 8)?);
            (d, t, at + 16)
        } else {
            let d = u64::from(u32::from_be_bytes(walk.read(at)?));
            let t = i64::from(i32::from_be_bytes(walk.read(at + 4)?));
            (d, t, at + 8)
        };
        if media_time == -1 {
            continue;
        }
        let rate = i16::from_be_bytes(walk.read(rate_at)?);
        if found.is_some() || rate != 1 || media_time < 0 {
            return None;
        }
        found = Some((u64::try_from(media_time).ok()?, duration));
    }
    found
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(body.len() + 8).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn header(scale: u32, duration: u32) -> Vec<u8> {
        let mut body = vec![0u8; 12];
        body.extend_from_slice(&scale.to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body
    }

    fn elst(entries: &[(u32, i32)]) -> Vec<u8> {
        let mut body = vec![0u8; 4];
        body.extend_from_slice(&u32::try_from(entries.len()).unwrap().to_be_bytes());
        for &(duration, media_time) in entries {
            body.extend_from_slice(&duration.to_be_bytes());
            body.extend_from_slice(&media_time.to_be_bytes());
            body.extend_from_slice(&[0, 1, 0, 0]);
        }
        bx(b"elst", &body)
    }

    fn file(entries: &[(u32, i32)], handler: &[u8; 4]) -> Vec<u8> {
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        let mdia = [bx(b"mdhd", &header(48_000, 49_024)), bx(b"hdlr", &hdlr)].concat();
        let trak = [bx(b"edts", &elst(entries)), bx(b"mdia", &mdia)].concat();
        let moov = [bx(b"mvhd", &header(1000, 1000)), bx(b"trak", &trak)].concat();
        [bx(b"ftyp", b"M4A \0\0\0\0"), bx(b"moov", &moov)].concat()
    }

    fn edit_of(bytes: &[u8]) -> Option<Edit> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        audio_edit(&f, 48_000)
    }

    #[test]
    fn a_single_edit_skips_the_priming_and_keeps_the_media_to_its_end() {
        let edit = edit_of(&file(&[(1000, 1024)], b"soun"));
        assert_eq!(
            edit,
            Some(Edit {
                skip: 1024,
                keep: Some(48_000)
            })
        );
        // An empty edit first (media time -1) is a delay: ignored.
        assert_eq!(edit_of(&file(&[(5, -1), (1000, 1024)], b"soun")), edit);
        // An edit shorter than the media keeps what it says.
        let short = edit_of(&file(&[(500, 1024)], b"soun"));
        assert_eq!(
            short,
            Some(Edit {
                skip: 1024,
                keep: Some(24_000)
            })
        );
    }

    #[test]
    fn what_this_reader_does_not_apply_is_no_edit() {
        assert_eq!(edit_of(&file(&[(1000, 1024)], b"vide")), None, "no audio track");
        assert_eq!(edit_of(&file(&[(500, 1024), (500, 4096)], b"soun")), None, "two edits");
        assert_eq!(edit_of(&file(&[(1000, 0)], b"soun")), None, "nothing to skip");
        assert_eq!(edit_of(b""), None);
        assert_eq!(edit_of(&bx(b"RIFF", b"WAVE")), None, "not MP4");
    }

    #[test]
    fn lying_sizes_and_counts_are_no_edit_not_a_panic() {
        let good = file(&[(1000, 1024)], b"soun");
        for cut in [9, 30, 60, good.len() - 3] {
            assert_eq!(edit_of(&good[..cut]), None, "cut at {cut}");
        }
        let mut huge_count = good.clone();
        let at = good.windows(4).position(|w| w == b"elst").unwrap() + 8;
        huge_count[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(edit_of(&huge_count), None);
        let mut huge_box = good.clone();
        let at = good.windows(4).position(|w| w == b"moov").unwrap() - 4;
        huge_box[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(edit_of(&huge_box), None, "a 64-bit size running past the end");
    }
}
