//! The dot-product kernels and their run-time selection.

use super::blocks::TAP_BLOCK;
#[cfg(target_arch = "x86_64")]
use super::x86;
use crate::simd::Avx2Fma;

/// The run-time selected dot-product kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kernel {
    /// Portable Rust, auto-vectorised for the build target.
    Portable,
    /// AVX2 + FMA, chosen when the CPU has both (the token proves it).
    #[cfg(target_arch = "x86_64")]
    Avx2Fma(Avx2Fma),
}

impl Kernel {
    pub(super) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = Avx2Fma::detect() {
            return Kernel::Avx2Fma(cpu);
        }
        Kernel::Portable
    }

    /// The token of the tiled integer-ratio kernels, when they are available.
    pub(super) fn tiled(self) -> Option<Avx2Fma> {
        match self {
            Kernel::Portable => None,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => Some(cpu),
        }
    }

    /// Four dot products of `coef` with `src[offs[i]..offs[i] + coef.len()]`.
    ///
    /// Panics if a window runs past `src` or `coef.len()` is not a multiple of
    /// [`TAP_BLOCK`] (internal invariants, never user input).
    #[inline]
    pub(super) fn dot4(self, coef: &[f32], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
        match self {
            Kernel::Portable => dot4_portable(coef, src, offs),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86::dot4(cpu, coef, src, offs),
        }
    }

    /// Four dot products of `rows[i]` with `src[offs[i]..offs[i] + rows[i].len()]`: four
    /// outputs of different branches. Each output is computed with exactly the arithmetic
    /// of [`dot4`](Self::dot4), so the two give identical samples.
    ///
    /// Panics if the rows differ in length, a window runs past `src` or the length is not
    /// a multiple of [`TAP_BLOCK`] (internal invariants, never user input).
    #[inline]
    pub(super) fn dot4_rows(self, rows: [&[f32]; 4], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
        match self {
            Kernel::Portable => dot4_rows_portable(rows, src, offs),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86::dot4_rows(cpu, rows, src, offs),
        }
    }
}

pub(super) fn dot4_portable(coef: &[f32], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
    dot4_rows_portable([coef; 4], src, offs)
}

fn dot4_rows_portable(rows: [&[f32]; 4], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
    let mut acc = [[0.0f32; TAP_BLOCK]; 4];
    for ((a, &o), coef) in acc.iter_mut().zip(&offs).zip(rows) {
        let x = &src[o..o + coef.len()];
        for (cb, xb) in coef.chunks_exact(TAP_BLOCK).zip(x.chunks_exact(TAP_BLOCK)) {
            for l in 0..TAP_BLOCK {
                a[l] += cb[l] * xb[l];
            }
        }
    }
    acc.map(|a| {
        let mut v = [0.0f32; 8];
        for l in 0..8 {
            v[l] = a[l] + a[l + 8];
        }
        let s4 = [v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]];
        (s4[0] + s4[2]) + (s4[1] + s4[3])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn portable_and_simd_kernels_agree() {
        let coef: Vec<f32> = (0..64).map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5).collect();
        let src: Vec<f32> = (0..200).map(|i| ((i * 11) % 17) as f32 / 17.0 - 0.5).collect();
        let offs = [0, 3, 50, 136];
        let a = dot4_portable(&coef, &src, offs);
        let b = Kernel::detect().dot4(&coef, &src, offs);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5);
        }
        let rows = [&coef[..32], &coef[16..48], &coef[32..], &coef[..32]];
        let c = Kernel::detect().dot4_rows(rows, &src, offs);
        let d = dot4_rows_portable(rows, &src, offs);
        for (w, (x, y)) in c.iter().zip(&d).enumerate() {
            let one = Kernel::detect().dot4(rows[w], &src, [offs[w]; 4])[0];
            assert_eq!(
                x.to_bits(),
                one.to_bits(),
                "rows and shared-coefficient kernels must agree exactly"
            );
            assert!((x - y).abs() < 1e-5);
        }
    }
}
