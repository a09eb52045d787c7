//! Sample-format conversion kernels.
//!
//! Free functions convert a source slice into a caller-provided destination slice of the same
//! length; they never allocate and never panic on user input (a length mismatch is a
//! [`ConvertError::LengthMismatch`]). Every pair is documented with its exact arithmetic:
//!
//! | from \ to | `f32` | `i16` | `i32` |
//! |---|---|---|---|
//! | `i16` | [`i16_to_f32`]: `x / 32768` (exact) | copy | [`i16_to_i32`]: `x << 16` (exact) |
//! | `i32` | [`i32_to_f32`]: `x / 2^31` (nearest `f32`) | [`i32_to_i16`]: round, saturate | copy |
//! | `f32` | copy | [`f32_to_i16`]: `x * 32768`, round, saturate | [`f32_to_i32`]: `x * 2^31`, round, saturate |
//! | `f64` | [`f64_to_f32`]: nearest `f32` | [`f64_to_i16`] like `f32` | [`f64_to_i32`] like `f32` |
//! | `u8` (8-bit PCM, offset 128) | [`u8_to_f32`]: `(x - 128) / 128` | [`u8_to_i16`]: `(x - 128) << 8` | [`u8_to_i32`]: `(x - 128) << 24` |
//!
//! Float to integer conversions round to nearest (ties to even), saturate to the integer
//! range (so `1.0` becomes `32767` / `2147483647`, `-1.0` becomes `-32768` / `-2147483648`),
//! map `NaN` to `0` and infinities to the range ends.
//!
//! Little-endian byte buffers (from files or the network) are viewed without copying with
//! [`bytes_as_i16`], [`bytes_as_i32`], [`bytes_as_f32`] and [`bytes_as_f64`]; a misaligned
//! buffer or a length that is not a whole number of samples is an error, never undefined
//! behaviour. [`le_bytes_to_f32`] decodes any byte buffer, aligned or not, by copying.
//!
//! # Speed
//!
//! On x86-64 the kernels are compiled twice, for the build target and with AVX2 enabled, and
//! the AVX2 version is chosen at run time when the CPU has it (through a
//! `simd::Avx2Fma` token, which only feature detection produces): a wheel built for the
//! default x86-64 target (SSE2 only) would otherwise run `i16 -> f32` about 2x slower,
//! because SSE2 has no packed sign extension. Rounding uses the `1.5 * 2^23` magic-number
//! trick instead of `f32::round` (a libm call per sample without SSE4.1), and saturation
//! uses compare-and-select before an unchecked conversion instead of the saturating `as`
//! cast, which does not vectorise; `f32 -> i16` has an AVX2 body written with intrinsics
//! (convert, then a saturating pack). The `*_uninit` variants write into fresh memory
//! without a zeroing pass first. Figures against a copy and numpy: README, Performance.

use std::mem::MaybeUninit;

use remotemedia_core::SampleFormat;

use crate::simd::Avx2Fma;

/// Errors of the format converters. All of them describe bad input; none is transient.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// Source and destination slices have different lengths.
    #[error("source has {src} samples but destination has {dst}")]
    LengthMismatch {
        /// Source length in samples.
        src: usize,
        /// Destination length in samples.
        dst: usize,
    },
    /// A byte buffer is not aligned for a zero-copy view of the sample type.
    #[error(
        "byte buffer at address {addr:#x} is not aligned to {align} bytes for a zero-copy view; \
         copy it with le_bytes_to_f32 instead"
    )]
    Misaligned {
        /// Address of the first byte.
        addr: usize,
        /// Alignment the sample type needs.
        align: usize,
    },
    /// A byte buffer's length is not a whole number of samples.
    #[error("byte buffer of {len} bytes is not a whole number of {sample_size}-byte samples")]
    PartialSample {
        /// Length of the buffer in bytes.
        len: usize,
        /// Size of one sample in bytes.
        sample_size: usize,
    },
    /// Zero-copy little-endian views are impossible on a big-endian host.
    #[error("zero-copy little-endian views are not available on a big-endian host")]
    BigEndianHost,
}

/// The signature of the `*_uninit` converters, e.g. [`i16_to_f32_uninit`].
pub type UninitConverter<S, T> = for<'a> fn(&[S], &'a mut [MaybeUninit<T>]) -> Result<&'a mut [T], ConvertError>;

fn check_len(src: usize, dst: usize) -> Result<(), ConvertError> {
    if src == dst {
        Ok(())
    } else {
        Err(ConvertError::LengthMismatch { src, dst })
    }
}

const I16_SCALE: f32 = 32_768.0;
const I32_SCALE: f32 = 2_147_483_648.0;
/// Adding then subtracting `1.5 * 2^23` rounds an `f32` of magnitude below `2^22` to the
/// nearest integer, ties to even (the FPU's default mode), in two vectorisable additions.
const ROUND_F32: f32 = 12_582_912.0;
/// The same trick for `f64`, valid below `2^51`.
const ROUND_F64: f64 = 6_755_399_441_055_744.0;

#[inline(always)]
fn f32_sample_to_i16(x: f32) -> i16 {
    let v = x * I16_SCALE;
    // Map NaN to 0 first, so the clamps below need no NaN handling.
    let v = if v.is_nan() { 0.0 } else { v };
    let v = if v < -32_768.0 { -32_768.0 } else { v };
    let v = if v > 32_767.0 { 32_767.0 } else { v };
    let r = (v + ROUND_F32) - ROUND_F32;
    // SAFETY: `r` is finite, integral and within [-32768, 32767].
    unsafe { r.to_int_unchecked::<i32>() as i16 }
}

#[inline(always)]
fn f64_sample_to_i16(x: f64) -> i16 {
    let v = x * 32_768.0;
    let v = if v.is_nan() { 0.0 } else { v };
    let v = if v < -32_768.0 { -32_768.0 } else { v };
    let v = if v > 32_767.0 { 32_767.0 } else { v };
    let r = (v + ROUND_F64) - ROUND_F64;
    // SAFETY: `r` is finite, integral and within [-32768, 32767].
    unsafe { r.to_int_unchecked::<i32>() as i16 }
}

#[inline(always)]
fn f64_sample_to_i32(x: f64) -> i32 {
    let v = x * 2_147_483_648.0;
    let v = if v.is_nan() { 0.0 } else { v };
    let v = if v < -2_147_483_648.0 { -2_147_483_648.0 } else { v };
    let v = if v > 2_147_483_647.0 { 2_147_483_647.0 } else { v };
    let r = (v + ROUND_F64) - ROUND_F64;
    // SAFETY: `r` is finite, integral and within the i32 range.
    unsafe { r.to_int_unchecked::<i32>() }
}

#[inline(always)]
fn i32_sample_to_i16(x: i32) -> i16 {
    // Round half up, then an arithmetic shift; the saturating add keeps i32::MAX in range.
    (x.saturating_add(0x8000) >> 16) as i16
}

/// Defines a public converter pair, `$name` into initialised memory and `$uninit` into
/// uninitialised memory (a fresh `Vec`'s spare capacity, a new numpy array), whose loop
/// body is compiled twice on x86-64 (build target and AVX2) and dispatched at run time on
/// an [`Avx2Fma`] token.
macro_rules! converter {
    ($(#[$doc:meta])* $name:ident, $uninit:ident, $src:ty, $dst:ty, |$x:ident| $body:expr) => {
        converter!($(#[$doc])* $name, $uninit, $src, $dst, |$x| $body, avx2 = body);
    };
    ($(#[$doc:meta])* $name:ident, $uninit:ident, $src:ty, $dst:ty, |$x:ident| $body:expr, avx2 = $avx2:ident) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// [`ConvertError::LengthMismatch`] if `dst.len() != src.len()`.
        pub fn $name(src: &[$src], dst: &mut [$dst]) -> Result<(), ConvertError> {
            // SAFETY: `MaybeUninit<T>` has the layout of `T`, and `$uninit` only writes
            // initialised values, so `dst` stays initialised.
            let dst = unsafe { &mut *(dst as *mut [$dst] as *mut [MaybeUninit<$dst>]) };
            $uninit(src, dst).map(|_| ())
        }

        #[doc = concat!("[`", stringify!($name), "`] into uninitialised memory; returns `dst`, now initialised.")]
        ///
        /// # Errors
        /// [`ConvertError::LengthMismatch`] if `dst.len() != src.len()`.
        pub fn $uninit<'a>(src: &[$src], dst: &'a mut [MaybeUninit<$dst>]) -> Result<&'a mut [$dst], ConvertError> {
            #[inline(always)]
            fn body(src: &[$src], dst: &mut [MaybeUninit<$dst>]) {
                for (d, &$x) in dst.iter_mut().zip(src) {
                    d.write($body);
                }
            }
            #[cfg(target_arch = "x86_64")]
            fn body_avx2(_cpu: Avx2Fma, src: &[$src], dst: &mut [MaybeUninit<$dst>]) {
                #[target_feature(enable = "avx2,fma")]
                fn body_avx2(src: &[$src], dst: &mut [MaybeUninit<$dst>]) {
                    $avx2(src, dst)
                }
                // SAFETY: an `Avx2Fma` token exists only on a CPU with AVX2 and FMA.
                unsafe { body_avx2(src, dst) }
            }
            check_len(src.len(), dst.len())?;
            match Avx2Fma::detect() {
                #[cfg(target_arch = "x86_64")]
                Some(cpu) => body_avx2(cpu, src, dst),
                _ => body(src, dst),
            }
            // SAFETY: every element of `dst` was written above.
            Ok(unsafe { &mut *(dst as *mut [MaybeUninit<$dst>] as *mut [$dst]) })
        }
    };
}

converter!(
    /// `i16` to `f32`: `x / 32768`, exact; the result lies in `[-1.0, 1.0)`.
    i16_to_f32, i16_to_f32_uninit, i16, f32, |x| f32::from(x) * (1.0 / I16_SCALE)
);

converter!(
    /// `i32` to `f32`: `x / 2^31`, rounded to the nearest `f32` (24-bit mantissa); the
    /// result lies in `[-1.0, 1.0]` (`i32::MAX` rounds up to `1.0`).
    i32_to_f32, i32_to_f32_uninit, i32, f32, |x| x as f32 * (1.0 / I32_SCALE)
);

converter!(
    /// `f32` to `i16`: `x * 32768`, rounded to nearest (ties to even), saturated to
    /// `[-32768, 32767]`; `NaN` gives `0`, infinities the range ends.
    f32_to_i16, f32_to_i16_uninit, f32, i16, |x| f32_sample_to_i16(x), avx2 = f32_to_i16_avx2
);

/// The AVX2 body of [`f32_to_i16`], sixteen samples per step: NaN masked to zero, clamped,
/// converted with the current (round-to-nearest-even) rounding mode, and narrowed with a
/// saturating pack; the tail goes through the scalar conversion. Same results as the
/// scalar code. Written with intrinsics because the auto-vectorised clamp-and-round took
/// 1.55x the time of a copy of 1 M `f32` (criterion), far from the copy floor.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn f32_to_i16_avx2(src: &[f32], dst: &mut [MaybeUninit<i16>]) {
    use std::arch::x86_64::*;
    let whole = src.len().min(dst.len()) / 16 * 16;
    let scale = _mm256_set1_ps(I16_SCALE);
    let (lo, hi) = (_mm256_set1_ps(-32_768.0), _mm256_set1_ps(32_767.0));
    let to_i32 = |p: *const f32| {
        // SAFETY: the caller passes a pointer to 8 readable floats.
        let v = _mm256_mul_ps(unsafe { _mm256_loadu_ps(p) }, scale);
        let v = _mm256_and_ps(v, _mm256_cmp_ps::<_CMP_ORD_Q>(v, v));
        _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi))
    };
    for i in (0..whole).step_by(16) {
        // SAFETY: `i + 16 <= whole <= src.len()`, so both loads are in bounds.
        let (a, b) = unsafe { (to_i32(src.as_ptr().add(i)), to_i32(src.as_ptr().add(i + 8))) };
        // The pack interleaves 128-bit halves (a0-3 b0-3 a4-7 b4-7); the permute restores order.
        let packed = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(a, b));
        // SAFETY: `i + 16 <= whole <= dst.len()`: sixteen i16 fit; unaligned store.
        unsafe { _mm256_storeu_si256(dst.as_mut_ptr().add(i).cast::<__m256i>(), packed) };
    }
    for (d, &x) in dst[whole..].iter_mut().zip(&src[whole..]) {
        d.write(f32_sample_to_i16(x));
    }
}

converter!(
    /// `f32` to `i32`: `x * 2^31` (computed in `f64`, exact), rounded to nearest (ties to
    /// even), saturated to `[-2^31, 2^31 - 1]`; `NaN` gives `0`, infinities the range ends.
    f32_to_i32, f32_to_i32_uninit, f32, i32, |x| f64_sample_to_i32(f64::from(x))
);

converter!(
    /// `i16` to `i32`: `x << 16`, exact.
    i16_to_i32, i16_to_i32_uninit, i16, i32, |x| i32::from(x) << 16
);

converter!(
    /// `i32` to `i16`: `x / 65536` rounded to nearest (ties up), saturated to `32767`.
    i32_to_i16, i32_to_i16_uninit, i32, i16, |x| i32_sample_to_i16(x)
);

converter!(
    /// `f64` to `f32`: nearest `f32`; values beyond the `f32` range become infinities,
    /// `NaN` stays `NaN`. No scaling.
    f64_to_f32, f64_to_f32_uninit, f64, f32, |x| x as f32
);

converter!(
    /// `f64` to `i16`: `x * 32768`, rounded to nearest (ties to even), saturated to
    /// `[-32768, 32767]`; `NaN` gives `0`.
    f64_to_i16, f64_to_i16_uninit, f64, i16, |x| f64_sample_to_i16(x)
);

converter!(
    /// `f64` to `i32`: `x * 2^31`, rounded to nearest (ties to even), saturated to
    /// `[-2^31, 2^31 - 1]`; `NaN` gives `0`.
    f64_to_i32, f64_to_i32_uninit, f64, i32, |x| f64_sample_to_i32(x)
);

converter!(
    /// `f32` to `f64`: exact widening, no scaling.
    f32_to_f64, f32_to_f64_uninit, f32, f64, |x| f64::from(x)
);

converter!(
    /// Unsigned 8-bit PCM (silence at 128) to `f32`: `(x - 128) / 128`, exact; the result
    /// lies in `[-1.0, 0.9921875]`.
    u8_to_f32, u8_to_f32_uninit, u8, f32, |x| (f32::from(x) - 128.0) * (1.0 / 128.0)
);

converter!(
    /// Unsigned 8-bit PCM (silence at 128) to `i16`: `(x - 128) << 8`, exact.
    u8_to_i16, u8_to_i16_uninit, u8, i16, |x| (i16::from(x) - 128) << 8
);

converter!(
    /// Unsigned 8-bit PCM (silence at 128) to `i32`: `(x - 128) << 24`, exact.
    u8_to_i32, u8_to_i32_uninit, u8, i32, |x| (i32::from(x) - 128) << 24
);

fn view<T: bytemuck::Pod>(bytes: &[u8]) -> Result<&[T], ConvertError> {
    if cfg!(target_endian = "big") {
        return Err(ConvertError::BigEndianHost);
    }
    if bytes.is_empty() {
        return Ok(&[]);
    }
    let size = std::mem::size_of::<T>();
    if !bytes.len().is_multiple_of(size) {
        return Err(ConvertError::PartialSample {
            len: bytes.len(),
            sample_size: size,
        });
    }
    bytemuck::try_cast_slice(bytes).map_err(|_| ConvertError::Misaligned {
        addr: bytes.as_ptr() as usize,
        align: std::mem::align_of::<T>(),
    })
}

/// Views little-endian 16-bit PCM bytes as `&[i16]` without copying.
///
/// # Errors
/// [`ConvertError::PartialSample`] for an odd length, [`ConvertError::Misaligned`] if the
/// buffer does not start on a 2-byte boundary, [`ConvertError::BigEndianHost`] on big-endian
/// targets.
pub fn bytes_as_i16(bytes: &[u8]) -> Result<&[i16], ConvertError> {
    view(bytes)
}

/// Views little-endian 32-bit PCM bytes as `&[i32]` without copying.
///
/// # Errors
/// As [`bytes_as_i16`], for 4-byte samples.
pub fn bytes_as_i32(bytes: &[u8]) -> Result<&[i32], ConvertError> {
    view(bytes)
}

/// Views little-endian IEEE `f32` bytes as `&[f32]` without copying.
///
/// # Errors
/// As [`bytes_as_i16`], for 4-byte samples.
pub fn bytes_as_f32(bytes: &[u8]) -> Result<&[f32], ConvertError> {
    view(bytes)
}

/// Views little-endian IEEE `f64` bytes as `&[f64]` without copying.
///
/// # Errors
/// As [`bytes_as_i16`], for 8-byte samples.
pub fn bytes_as_f64(bytes: &[u8]) -> Result<&[f64], ConvertError> {
    view(bytes)
}

/// Decodes little-endian bytes of `format` into `f32` samples, whatever the buffer's
/// alignment (zero-copy view plus SIMD conversion when aligned, a byte-wise copy otherwise).
/// Returns the number of samples written; `dst` must hold exactly
/// `src.len() / format.bytes_per_sample()` samples.
///
/// # Errors
/// [`ConvertError::PartialSample`] if `src` is not a whole number of samples,
/// [`ConvertError::LengthMismatch`] if `dst` has the wrong length.
pub fn le_bytes_to_f32(src: &[u8], format: SampleFormat, dst: &mut [f32]) -> Result<usize, ConvertError> {
    let size = format.bytes_per_sample();
    if !src.len().is_multiple_of(size) {
        return Err(ConvertError::PartialSample {
            len: src.len(),
            sample_size: size,
        });
    }
    let n = src.len() / size;
    check_len(n, dst.len())?;
    let aligned = match format {
        SampleFormat::I16 => bytes_as_i16(src).and_then(|s| i16_to_f32(s, dst)),
        SampleFormat::I32 => bytes_as_i32(src).and_then(|s| i32_to_f32(s, dst)),
        SampleFormat::F32 => bytes_as_f32(src).map(|s| dst.copy_from_slice(s)),
    };
    if aligned.is_ok() {
        return Ok(n);
    }
    match format {
        SampleFormat::I16 => {
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(2)) {
                *d = f32::from(i16::from_le_bytes([b[0], b[1]])) * (1.0 / I16_SCALE);
            }
        }
        SampleFormat::I32 => {
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(4)) {
                *d = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 * (1.0 / I32_SCALE);
            }
        }
        SampleFormat::F32 => {
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(4)) {
                *d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_rounding_is_ties_to_even() {
        assert_eq!(f32_sample_to_i16(0.5 / 32_768.0), 0);
        assert_eq!(f32_sample_to_i16(1.5 / 32_768.0), 2);
        assert_eq!(f32_sample_to_i16(-2.5 / 32_768.0), -2);
        assert_eq!(f64_sample_to_i32(2.5 / 2_147_483_648.0), 2);
    }

    #[test]
    fn i32_to_i16_rounds_half_up_and_saturates() {
        assert_eq!(i32_sample_to_i16(0x7FFF), 0);
        assert_eq!(i32_sample_to_i16(0x8000), 1);
        assert_eq!(i32_sample_to_i16(i32::MAX), i16::MAX);
        assert_eq!(i32_sample_to_i16(i32::MIN), i16::MIN);
    }
}
