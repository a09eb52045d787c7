//! The byte source under a decoder: a file (seekable) or any reader (a
//! pipe, standard input), read once, with a count of the bytes read and,
//! for a WAV written to a pipe, its placeholder lengths made readable.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use symphonia::core::io::MediaSource;

/// The most header bytes read while looking for a WAV's `data` chunk; past
/// it the header is left to the demuxer as it is.
const MAX_WAV_HEADER: usize = 1 << 20;

/// The most channels a WAV may have: symphonia maps channels to the 26
/// speaker positions it names and refuses more.
const MAX_CHANNELS: u16 = 26;

/// What the first bytes of a RIFF/WAVE input said about its data chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WavLayout {
    /// Offset of the first sample byte.
    pub data_start: u64,
    /// Bytes of samples the header promises; `None` when the writer did not
    /// know (a stream to a pipe: ffmpeg writes 0xFFFFFFFF, sox 0x7FFFF000,
    /// others 0; in a stream any length from 0x7FFF0000 up is taken for a
    /// placeholder, in a file only sox's when it runs past the end), and the
    /// samples run to the end of the input.
    pub data_len: Option<u64>,
}

enum Inner {
    File(File),
    Stream(Box<dyn Read + Send + Sync>),
}

/// A [`MediaSource`] over a file or a reader, serving a (possibly patched)
/// copy of the header first.
pub(crate) struct Input {
    inner: Inner,
    /// The first bytes of the input, already read from `inner`.
    head: Vec<u8>,
    /// Position in the logical stream (head, then the rest of `inner`).
    pos: u64,
    byte_len: Option<u64>,
    read: Arc<AtomicU64>,
}

/// Why the head of an input could not be read.
pub(crate) enum HeadError {
    /// The input has no bytes.
    Empty,
    /// Reading failed.
    Io(io::Error),
    /// The input ended inside a WAV header.
    CutHeader(u64),
    /// The WAV format chunk gives values no audio has.
    BadFormat(String),
}

impl Input {
    /// Wraps `file`.
    pub fn file(file: File) -> io::Result<Self> {
        let byte_len = file.metadata()?.len();
        Ok(Self::new(Inner::File(file), Some(byte_len)))
    }

    /// Wraps a reader of unknown length that can be read only once.
    pub fn stream(reader: Box<dyn Read + Send + Sync>) -> Self {
        Self::new(Inner::Stream(reader), None)
    }

    fn new(inner: Inner, byte_len: Option<u64>) -> Self {
        Self {
            inner,
            head: Vec::new(),
            pos: 0,
            byte_len,
            read: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Shared count of bytes read from the input so far.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.read)
    }

    /// Reads the first bytes. For a RIFF/WAVE input it reads through the
    /// header to the `data` chunk and returns where the samples are; when
    /// the header's lengths are placeholders, it rewrites them (in the copy
    /// it serves) to the 0xFFFFFFFF the demuxer accepts for streams.
    pub fn read_head(&mut self) -> Result<Option<WavLayout>, HeadError> {
        self.fill_head(12).map_err(HeadError::Io)?;
        if self.head.is_empty() {
            return Err(HeadError::Empty);
        }
        if self.head.len() < 12 || &self.head[0..4] != b"RIFF" || &self.head[8..12] != b"WAVE" {
            return Ok(None);
        }
        let mut at = 12;
        loop {
            self.fill_head(at + 8).map_err(HeadError::Io)?;
            if self.head.len() < at + 8 {
                return Err(HeadError::CutHeader(self.head.len() as u64));
            }
            let len = u32::from_le_bytes(self.head[at + 4..at + 8].try_into().expect("4 bytes"));
            if &self.head[at..at + 4] == b"data" {
                let data_start = (at + 8) as u64;
                let placeholder = match self.byte_len {
                    // In a file, sox's placeholder runs past the end; a
                    // real length of that size does not.
                    Some(size) => len == 0x7FFF_F000 && data_start + u64::from(len) > size,
                    None => len >= 0x7FFF_0000,
                };
                let data_len = (len != 0 && len != u32::MAX && !placeholder).then_some(u64::from(len));
                if data_len.is_none() {
                    self.head[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
                    self.head[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
                }
                return Ok(Some(WavLayout { data_start, data_len }));
            }
            let next = at + 8 + len as usize + (len as usize & 1);
            if next > MAX_WAV_HEADER {
                return Ok(None);
            }
            self.fill_head(next).map_err(HeadError::Io)?;
            if self.head.len() < next {
                return Err(HeadError::CutHeader(self.head.len() as u64));
            }
            if &self.head[at..at + 4] == b"fmt " && len >= 16 {
                check_fmt(&self.head[at + 8..at + 24], at + 8)?;
            }
            at = next;
        }
    }

    /// Reads from `inner` until `head` holds `n` bytes or the input ends.
    fn fill_head(&mut self, n: usize) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        while self.head.len() < n {
            let want = (n - self.head.len()).min(buf.len());
            let got = match self.read_inner(&mut buf[..want]) {
                Ok(0) => return Ok(()),
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.head.extend_from_slice(&buf[..got]);
        }
        Ok(())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let got = match &mut self.inner {
            Inner::File(f) => f.read(buf)?,
            Inner::Stream(r) => r.read(buf)?,
        };
        self.read.fetch_add(got as u64, Ordering::Relaxed);
        Ok(got)
    }
}

/// Refuses a WAV format chunk with no channels, more than the demuxer maps,
/// or a 0 Hz rate (the demuxer would divide by it). `at` is the chunk
/// body's byte offset.
fn check_fmt(body: &[u8], at: usize) -> Result<(), HeadError> {
    let channels = u16::from_le_bytes([body[2], body[3]]);
    let rate = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(HeadError::BadFormat(format!(
            "the WAV format chunk at byte {at} gives {channels} channels; 1 to {MAX_CHANNELS} are supported"
        )));
    }
    if rate == 0 {
        return Err(HeadError::BadFormat(format!(
            "the WAV format chunk at byte {at} gives a sample rate of 0 Hz"
        )));
    }
    Ok(())
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let head_len = self.head.len() as u64;
        if self.pos < head_len {
            let from = &self.head[self.pos as usize..];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            self.pos += n as u64;
            return Ok(n);
        }
        let n = self.read_inner(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Input {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let Inner::File(file) = &mut self.inner else {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "a stream cannot seek"));
        };
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.byte_len.and_then(|l| l.checked_add_signed(d)),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        file.seek(SeekFrom::Start(target.max(self.head.len() as u64)))?;
        self.pos = target;
        Ok(target)
    }
}

impl MediaSource for Input {
    fn is_seekable(&self) -> bool {
        matches!(self.inner, Inner::File(_))
    }

    fn byte_len(&self) -> Option<u64> {
        self.byte_len
    }
}
