//! The dot-product kernels and their run-time selection.

use super::blocks::{TAP_BLOCK, TAP_GRAIN};
use super::walk::Walk;
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

    /// The outputs of one branch: `out[l * out_step] = coef . src[off + l * step..]` for
    /// every `l` with `l * out_step < out.len()`, four at a time with the arithmetic of
    /// [`dot4`](Self::dot4).
    ///
    /// Panics if a window runs past `src` (an internal invariant, never user input).
    #[inline]
    pub(super) fn branch(self, coef: &[f32], src: &[f32], off: usize, step: usize, out: &mut [f32], out_step: usize) {
        match self {
            Kernel::Portable => branch_portable(coef, src, off, step, out, out_step),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86::branch(cpu, coef, src, off, step, out, out_step),
        }
    }

    /// Consecutive outputs of a polyphase filter, as [`x86::rows_run`] describes them;
    /// each with the arithmetic of [`dot4`](Self::dot4).
    #[inline]
    pub(super) fn rows_run(
        self,
        table: &[f32],
        taps: usize,
        start: (usize, usize),
        step: (usize, usize),
        src: &[f32],
        out: &mut [f32],
    ) {
        match self {
            Kernel::Portable => rows_run_portable(table, taps, start, step, src, out),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma(cpu) => x86::rows_run(cpu, table, taps, start, step, src, out),
        }
    }
}

fn branch_portable(coef: &[f32], src: &[f32], off: usize, step: usize, out: &mut [f32], out_step: usize) {
    let count = out.len().div_ceil(out_step);
    for l0 in (0..count).step_by(4) {
        let lanes = (count - l0).min(4);
        let offs: [usize; 4] = std::array::from_fn(|l| off + (l0 + l.min(lanes - 1)) * step);
        let y = dot4_portable(coef, src, offs);
        for (l, v) in y.iter().enumerate().take(lanes) {
            out[(l0 + l) * out_step] = *v;
        }
    }
}

fn rows_run_portable(
    table: &[f32],
    taps: usize,
    (phase, off): (usize, usize),
    (step_phase, step_off): (usize, usize),
    src: &[f32],
    out: &mut [f32],
) {
    let mut walk = Walk::new(table.len() / taps, (phase, off), (step_phase, step_off));
    for chunk in out.chunks_mut(4) {
        let mut rows = [&table[..taps]; 4];
        let mut offs = [0; 4];
        for w in 0..4 {
            if w < chunk.len() {
                let (phase, off) = walk.next();
                rows[w] = &table[phase * taps..(phase + 1) * taps];
                offs[w] = off;
            } else {
                (rows[w], offs[w]) = (rows[0], offs[0]);
            }
        }
        let y = dot4_rows_portable(rows, src, offs);
        chunk.copy_from_slice(&y[..chunk.len()]);
    }
}

pub(super) fn dot4_portable(coef: &[f32], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
    dot4_rows_portable([coef; 4], src, offs)
}

fn dot4_rows_portable(rows: [&[f32]; 4], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
    debug_assert!(rows.iter().all(|r| r.len().is_multiple_of(TAP_GRAIN)));
    let mut acc = [[0.0f32; TAP_BLOCK]; 4];
    for ((a, &o), coef) in acc.iter_mut().zip(&offs).zip(rows) {
        let x = &src[o..o + coef.len()];
        let (cs, xs) = (coef.chunks_exact(TAP_BLOCK), x.chunks_exact(TAP_BLOCK));
        let (c_half, x_half) = (cs.remainder(), xs.remainder());
        for (cb, xb) in cs.zip(xs) {
            for l in 0..TAP_BLOCK {
                a[l] += cb[l] * xb[l];
            }
        }
        // A last half block (the length is a multiple of TAP_GRAIN) goes to the low lanes.
        for l in 0..c_half.len() {
            a[l] += c_half[l] * x_half[l];
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
    fn branch_and_rows_kernels_agree() {
        let up = 3;
        let taps = 24;
        let table: Vec<f32> = (0..up * taps).map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5).collect();
        let src: Vec<f32> = (0..400).map(|i| ((i * 11) % 17) as f32 / 17.0 - 0.5).collect();
        // Ratio 3/5 (up 3, down 5): output n reads row n*5 % 3 at offset n*5 / 3.
        let outputs = 60;
        for kernel in [Kernel::Portable, Kernel::detect()] {
            let mut rows = vec![0.0f32; outputs];
            kernel.rows_run(&table, taps, (0, 0), (5 % up, 5 / up), &src, &mut rows);
            let mut by_branch = vec![0.0f32; outputs];
            for r in 0..up {
                let (phase, off) = (r * 5 % up, r * 5 / up);
                let row = &table[phase * taps..(phase + 1) * taps];
                kernel.branch(row, &src, off, 5, &mut by_branch[r..], up);
            }
            for (n, (a, b)) in rows.iter().zip(&by_branch).enumerate() {
                assert_eq!(
                    a.to_bits(),
                    b.to_bits(),
                    "{kernel:?} output {n}: rows and branch kernels must agree exactly"
                );
                let (phase, off) = (n * 5 % up, n * 5 / up);
                let exact: f64 = (0..taps)
                    .map(|i| f64::from(table[phase * taps + i]) * f64::from(src[off + i]))
                    .sum();
                assert!((f64::from(*a) - exact).abs() < 1e-5, "{kernel:?} output {n}");
            }
        }
    }
}
