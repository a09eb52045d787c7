//! Per-request limits: the server's ceilings, lowered (never raised) by what
//! a request asks for in its `ResourceLimits`.

use std::time::Duration;

use crate::proto::ResourceLimits;

/// Limits applied to one request or stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most samples (frames x channels) in one audio buffer.
    pub max_audio_samples: u64,
    /// Longest one request (unary) or one chunk's processing (stream) may take.
    pub timeout: Duration,
    /// Most bytes of decoded input one request may hold (all its buffers;
    /// for a stream, one chunk).
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    /// 10 minutes of 48 kHz stereo per buffer, 30 s, 256 MiB.
    fn default() -> Self {
        Self {
            max_audio_samples: 48_000 * 2 * 600,
            timeout: Duration::from_secs(30),
            max_memory_bytes: 256 << 20,
        }
    }
}

impl Limits {
    /// These limits lowered by a request's own (a zero field asks nothing).
    pub fn narrowed_by(self, requested: Option<&ResourceLimits>) -> Self {
        let Some(r) = requested else { return self };
        let lower = |ours: u64, theirs: u64| if theirs == 0 { ours } else { ours.min(theirs) };
        Self {
            max_audio_samples: lower(self.max_audio_samples, r.max_audio_samples),
            timeout: Duration::from_millis(lower(self.timeout.as_millis() as u64, r.max_timeout_ms)),
            max_memory_bytes: lower(self.max_memory_bytes, r.max_memory_bytes),
        }
    }

    /// The largest gRPC message these limits can need: one buffer of
    /// `max_audio_samples` 4-byte samples, plus room for the rest of the
    /// message. Bigger messages are refused by the transport before their
    /// body is buffered.
    pub fn max_message_bytes(&self) -> usize {
        let audio = self.max_audio_samples.saturating_mul(4).min(self.max_memory_bytes);
        usize::try_from(audio.saturating_add(1 << 20)).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lowers_but_never_raises() {
        let server = Limits::default();
        let asked = ResourceLimits {
            max_memory_bytes: u64::MAX,
            max_timeout_ms: 500,
            max_audio_samples: 0,
        };
        let l = server.narrowed_by(Some(&asked));
        assert_eq!(l.max_memory_bytes, server.max_memory_bytes);
        assert_eq!(l.timeout, Duration::from_millis(500));
        assert_eq!(l.max_audio_samples, server.max_audio_samples);
    }
}
