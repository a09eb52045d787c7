//! Wire audio (`AudioBuffer`: little-endian, interleaved) to and from the
//! engine's planar [`AudioData`], with every field checked before anything
//! is allocated.

use remotemedia_core::{AudioData, Samples};

use crate::proto::{AudioBuffer, AudioFormat};
use crate::wire_error::WireError;

/// Decodes `buffer` (arriving for `where_`, e.g. `audio_chunk` or
/// `audio_inputs["mic"]`), refusing more than `max_samples` samples (over
/// all channels) before it decodes anything.
pub fn decode(buffer: &AudioBuffer, where_: &str, max_samples: u64) -> Result<AudioData, WireError> {
    let format = AudioFormat::try_from(buffer.format)
        .ok()
        .filter(|f| *f != AudioFormat::Unspecified)
        .ok_or_else(|| {
            WireError::validation(format!(
                "{where_}: unknown audio format {} (expected AUDIO_FORMAT_F32, _I16 or _I32)",
                buffer.format
            ))
        })?;
    if buffer.sample_rate == 0 {
        return Err(WireError::validation(format!("{where_}: sample_rate is 0")));
    }
    if buffer.channels == 0 {
        return Err(WireError::validation(format!("{where_}: channels is 0")));
    }
    let total = buffer
        .num_samples
        .checked_mul(u64::from(buffer.channels))
        .filter(|&t| t <= max_samples)
        .ok_or_else(|| {
            WireError::resource_limit(format!(
                "{where_}: {} frames x {} channels exceeds the limit of {max_samples} samples per buffer",
                buffer.num_samples, buffer.channels
            ))
        })?;
    let width = width(format);
    let expected = total * width as u64;
    if buffer.samples.len() as u64 != expected {
        return Err(WireError::validation(format!(
            "{where_}: {} bytes of samples, but num_samples {} x channels {} x {width} bytes ({}) is {expected}",
            buffer.samples.len(),
            buffer.num_samples,
            buffer.channels,
            format.as_str_name()
        )));
    }
    let channels = buffer.channels as usize;
    let frames = buffer.num_samples as usize;
    let bytes = &buffer.samples;
    let samples: Samples = match format {
        AudioFormat::F32 => deinterleave(bytes, channels, frames, f32::from_le_bytes).into(),
        AudioFormat::I16 => deinterleave(bytes, channels, frames, i16::from_le_bytes).into(),
        AudioFormat::I32 => deinterleave(bytes, channels, frames, i32::from_le_bytes).into(),
        AudioFormat::Unspecified => unreachable!("refused above"),
    };
    AudioData::new(samples, channels, buffer.sample_rate).map_err(|e| WireError::validation(format!("{where_}: {e}")))
}

/// Encodes planar `audio` as an interleaved little-endian `AudioBuffer`.
pub fn encode(audio: &AudioData) -> AudioBuffer {
    let channels = audio.channels();
    let frames = audio.frames();
    let (format, samples) = match audio.samples() {
        Samples::F32(s) => (AudioFormat::F32, interleave(s, channels, frames, f32::to_le_bytes)),
        Samples::I16(s) => (AudioFormat::I16, interleave(s, channels, frames, i16::to_le_bytes)),
        Samples::I32(s) => (AudioFormat::I32, interleave(s, channels, frames, i32::to_le_bytes)),
    };
    AudioBuffer {
        samples,
        sample_rate: audio.sample_rate(),
        channels: channels as u32,
        format: format as i32,
        num_samples: frames as u64,
    }
}

/// Bytes per sample of `format`.
pub fn width(format: AudioFormat) -> usize {
    match format {
        AudioFormat::I16 => 2,
        AudioFormat::F32 | AudioFormat::I32 | AudioFormat::Unspecified => 4,
    }
}

fn deinterleave<T: Copy + Default, const W: usize>(
    bytes: &[u8],
    channels: usize,
    frames: usize,
    from_le: fn([u8; W]) -> T,
) -> Vec<T> {
    let mut out = vec![T::default(); channels * frames];
    for (i, b) in bytes.chunks_exact(W).enumerate() {
        let (frame, channel) = (i / channels, i % channels);
        out[channel * frames + frame] = from_le(b.try_into().expect("chunks_exact gives W bytes"));
    }
    out
}

fn interleave<T: Copy, const W: usize>(
    samples: &[T],
    channels: usize,
    frames: usize,
    to_le: fn(T) -> [u8; W],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * W);
    for frame in 0..frames {
        for channel in 0..channels {
            out.extend_from_slice(&to_le(samples[channel * frames + frame]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(samples: Vec<u8>, channels: u32, num_samples: u64, format: AudioFormat) -> AudioBuffer {
        AudioBuffer {
            samples,
            sample_rate: 16_000,
            channels,
            format: format as i32,
            num_samples,
        }
    }

    #[test]
    fn stereo_i16_round_trips_through_planar() {
        // Frames (L, R): (1, -1), (2, -2), (3, -3).
        let wire: Vec<u8> = [1i16, -1, 2, -2, 3, -3].iter().flat_map(|s| s.to_le_bytes()).collect();
        let audio = decode(&buffer(wire.clone(), 2, 3, AudioFormat::I16), "chunk", 100).unwrap();
        match audio.samples() {
            Samples::I16(s) => assert_eq!(&s[..], &[1, 2, 3, -1, -2, -3]),
            other => panic!("expected i16, got {other:?}"),
        }
        assert_eq!(encode(&audio).samples, wire);
    }

    #[test]
    fn refuses_a_byte_length_that_does_not_match() {
        let e = decode(&buffer(vec![0; 10], 1, 3, AudioFormat::F32), "chunk", 100).unwrap_err();
        assert!(
            e.message.contains("10 bytes") && e.message.contains("is 12"),
            "{}",
            e.message
        );
    }

    #[test]
    fn refuses_an_oversized_declaration_before_reading_bytes() {
        let e = decode(&buffer(vec![], 2, u64::MAX, AudioFormat::F32), "chunk", 1_000).unwrap_err();
        assert_eq!(e.kind, crate::wire_error::WireErrorKind::ResourceLimit);
    }

    #[test]
    fn refuses_unknown_format_and_zero_rate() {
        let mut b = buffer(vec![0; 4], 1, 1, AudioFormat::F32);
        b.format = 9;
        assert!(
            decode(&b, "chunk", 10)
                .unwrap_err()
                .message
                .contains("unknown audio format 9")
        );
        let mut b = buffer(vec![0; 4], 1, 1, AudioFormat::F32);
        b.sample_rate = 0;
        assert!(
            decode(&b, "chunk", 10)
                .unwrap_err()
                .message
                .contains("sample_rate is 0")
        );
    }
}
