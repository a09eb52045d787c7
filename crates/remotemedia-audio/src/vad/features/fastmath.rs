//! Branch-free arithmetic for the per-bin loops: written so that they vectorise.

/// Natural logarithm of a positive normal `x`, within about 3e-5 (bit trick +
/// degree-5 polynomial fit of log2 on [1, 2)). Branch-free, so loops over it vectorise.
#[inline(always)]
pub(super) fn fast_ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let log2_m =
        ((((0.043_429_51 * m - 0.404_872_57) * m + 1.593_92) * m - 3.492_525_6) * m + 5.046_901_7) * m - 2.786_821_1;
    (exponent as f32 + log2_m) * std::f32::consts::LN_2
}

/// `10·log10(x)` for a positive normal `x`, via [`fast_ln`].
#[inline(always)]
pub(super) fn fast_db(x: f32) -> f32 {
    fast_ln(x) * (10.0 / std::f32::consts::LN_10)
}

/// Sum with eight independent accumulators (a single running sum cannot vectorise).
#[inline(always)]
pub(super) fn lane_sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Sum of absolute values with eight independent accumulators.
#[inline(always)]
pub(super) fn lane_sum_abs(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|x| x.abs()).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x.abs();
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ln_is_close() {
        for x in [1.0f32, 1.5, 2.0, 3.7, 10.0, 1e3, 1e6, 1e12] {
            assert!((fast_ln(x) - x.ln()).abs() < 1e-3, "{x}");
        }
    }
}
