//! The polyphase driver: which outputs read which input windows, computed four at a time
//! by the dot-product kernel or, for integer ratios on AVX2/FMA, forty at a time by the
//! tiled kernel.

use super::blocks::TILE;
use super::kernel::Kernel;
use super::table::Table;
#[cfg(target_arch = "x86_64")]
use super::x86;
use crate::simd::Avx2Fma;

/// The geometry of the polyphase filter, separated from the buffers so it can be borrowed
/// alongside them.
#[derive(Clone, Copy)]
pub(super) struct Shape {
    up: u64,
    down: u64,
    taps: usize,
    /// Integer decimation or interpolation (`up == 1` or `down == 1`) on AVX2/FMA: use the
    /// tiled kernel.
    pub(super) tiled: Option<Avx2Fma>,
}

/// Outputs per input block of the tiled kernels.
const TILED_BLOCK: usize = 24 * TILE;

impl Shape {
    pub(super) fn new(up: u64, down: u64, taps: usize, kernel: Kernel) -> Self {
        Self {
            up,
            down,
            taps,
            tiled: kernel.tiled().filter(|_| (up == 1 || down == 1) && taps > 0),
        }
    }

    /// Length of the deinterleave buffer of the tiled kernels.
    pub(super) fn deint_len(self) -> usize {
        let m = self.down as usize;
        if self.up == 1 {
            m * (TILED_BLOCK + self.taps / m)
        } else {
            TILED_BLOCK + self.taps
        }
    }

    /// Integer interpolation by `up` with the tiled kernel: outputs of one branch at
    /// consecutive input positions have windows one frame apart, so each branch is a plain
    /// FIR over a zero-padded copy of the input block, computed [`TILE`] outputs at a time.
    #[cfg(target_arch = "x86_64")]
    #[allow(clippy::too_many_arguments)]
    fn run_tiled_up(
        self,
        cpu: Avx2Fma,
        coefs: &[f32],
        src: &[f32],
        src_start: i64,
        first: u64,
        out: &mut [f32],
        deint: &mut [f32],
    ) {
        let up = self.up;
        let taps = self.taps;
        let lead = taps as i64 / 2 - 1;
        let end = first + out.len() as u64;
        let last_base = (end - 1) / up;
        let mut k0 = first / up;
        while k0 <= last_base {
            let kb = (TILED_BLOCK as u64).min(last_base - k0 + 1) as usize;
            let s0 = (k0 as i64 - lead - src_start) as usize;
            let span = kb.next_multiple_of(TILE) + taps;
            deinterleave::<1>(src, s0, span, span, deint);
            for (p, coef) in coefs.chunks_exact(taps).enumerate() {
                for j0 in (0..kb).step_by(TILE) {
                    let y = x86::tile(cpu, coef, 1, &deint[..span], span, j0);
                    for (j, v) in y.iter().enumerate().take(kb - j0) {
                        let n = (k0 + (j0 + j) as u64) * up + p as u64;
                        if (first..end).contains(&n) {
                            out[(n - first) as usize] = *v;
                        }
                    }
                }
            }
            k0 += kb as u64;
        }
    }

    /// Integer decimation by `m = down` with the tiled kernel: each block of outputs has
    /// its input windows deinterleaved into `m` phase streams, so that eight consecutive
    /// outputs read eight consecutive values of a stream and one loaded vector serves four
    /// coefficients. Every output lane accumulates its taps in the same fixed order whatever
    /// the block or tile it falls in, so results do not depend on chunking.
    #[cfg(target_arch = "x86_64")]
    #[allow(clippy::too_many_arguments)]
    fn run_tiled(
        self,
        cpu: Avx2Fma,
        poly: &[f32],
        src: &[f32],
        src_start: i64,
        first: u64,
        out: &mut [f32],
        deint: &mut [f32],
    ) {
        let m = self.down as usize;
        let a_len = self.taps / m;
        let stride = TILED_BLOCK + a_len;
        let lead = self.taps as i64 / 2 - 1;
        for (b, block) in out.chunks_mut(TILED_BLOCK).enumerate() {
            let n0 = first + (b * TILED_BLOCK) as u64;
            let s0 = (n0 as i64 * m as i64 - lead - src_start) as usize;
            let span = block.len().next_multiple_of(TILE) + a_len;
            match m {
                2 => deinterleave::<2>(src, s0, span, stride, deint),
                3 => deinterleave::<3>(src, s0, span, stride, deint),
                4 => deinterleave::<4>(src, s0, span, stride, deint),
                _ => deinterleave_any(src, s0, m, span, stride, deint),
            }
            for (t, tile_out) in block.chunks_mut(TILE).enumerate() {
                let y = x86::tile(cpu, poly, m, deint, stride, t * TILE);
                tile_out.copy_from_slice(&y[..tile_out.len()]);
            }
        }
    }

    /// Computes outputs `first .. first + out.len()` into `out`, reading windows from `src`,
    /// whose element 0 is input frame `src_start` of the stream. Outputs sharing a branch
    /// (indices `up` apart, windows `down` apart) are computed four at a time.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run(
        self,
        kernel: Kernel,
        table: &Table,
        src: &[f32],
        src_start: i64,
        first: u64,
        out: &mut [f32],
        deint: &mut [f32],
    ) {
        let count = out.len();
        if count == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = self.tiled {
            return if self.up == 1 {
                self.run_tiled(cpu, table.poly(), src, src_start, first, out, deint)
            } else {
                self.run_tiled_up(cpu, table.coefficients(), src, src_start, first, out, deint)
            };
        }
        let table = table.coefficients();
        let up = self.up as usize;
        let down = self.down as usize;
        let pos = u128::from(first) * u128::from(self.down);
        let mut base = (pos / u128::from(self.up)) as i64;
        let mut phase = (pos % u128::from(self.up)) as usize;
        let (step_base, step_phase) = ((down / up) as i64, down % up);
        let lead = self.taps as i64 / 2 - 1;
        if rows_are_cheaper(count, up) {
            // Few outputs per branch (a short chunk at a ratio with many branches): group
            // four consecutive outputs instead, so that no lane is wasted.
            let mut j = 0;
            while j < count {
                let lanes = (count - j).min(4);
                let mut rows = [&table[..self.taps]; 4];
                let mut offs = [0; 4];
                for l in 0..4 {
                    if l >= lanes {
                        (rows[l], offs[l]) = (rows[0], offs[0]);
                        continue;
                    }
                    rows[l] = &table[phase * self.taps..(phase + 1) * self.taps];
                    offs[l] = (base - lead - src_start) as usize;
                    phase += step_phase;
                    base += step_base;
                    if phase >= up {
                        phase -= up;
                        base += 1;
                    }
                }
                let y = kernel.dot4_rows(rows, src, offs);
                out[j..j + lanes].copy_from_slice(&y[..lanes]);
                j += lanes;
            }
            return;
        }
        for r in 0..up.min(count) {
            let coef = &table[phase * self.taps..(phase + 1) * self.taps];
            let mut off = (base - lead - src_start) as usize;
            let mut j = r;
            while j < count {
                let lanes = (count - j).div_ceil(up).min(4);
                let mut offs = [off; 4];
                for (l, o) in offs.iter_mut().enumerate().take(lanes) {
                    *o = off + l * down;
                }
                let y = kernel.dot4(coef, src, offs);
                for (l, v) in y.iter().enumerate().take(lanes) {
                    out[j + l * up] = *v;
                }
                j += 4 * up;
                off += 4 * down;
            }
            phase += step_phase;
            base += step_base;
            if phase >= up {
                phase -= up;
                base += 1;
            }
        }
    }
}

/// Whether computing `count` consecutive outputs four at a time across branches
/// ([`Kernel::dot4_rows`]) costs less than four at a time within each of the `up` branches
/// ([`Kernel::dot4`], which shares coefficient loads but wastes lanes on branches with
/// fewer than four outputs). A rows call makes about 1.6x the loads of a branch call
/// (four per sixteen taps of an output against two and a half).
fn rows_are_cheaper(count: usize, up: usize) -> bool {
    let branch_calls: usize = (0..up.min(count)).map(|r| (count - r).div_ceil(up).div_ceil(4)).sum();
    8 * count.div_ceil(4) < 5 * branch_calls
}

/// Splits `src[start..]` into `M` phase streams, `deint[p * stride + k] = src[start + M * k + p]`
/// for `k < span`, with silence past the end of `src`.
#[cfg(target_arch = "x86_64")]
fn deinterleave<const M: usize>(src: &[f32], start: usize, span: usize, stride: usize, deint: &mut [f32]) {
    let rest = src.get(start..).unwrap_or(&[]);
    let whole = (rest.len() / M).min(span);
    let (streams, _) = deint.split_at_mut(M * stride);
    let mut rows: [&mut [f32]; M] = [(); M].map(|_| &mut [][..]);
    for (row, chunk) in rows.iter_mut().zip(streams.chunks_exact_mut(stride)) {
        *row = &mut chunk[..span];
    }
    for (k, frame) in rest.chunks_exact(M).take(whole).enumerate() {
        for (row, &x) in rows.iter_mut().zip(frame) {
            row[k] = x;
        }
    }
    for (p, row) in rows.iter_mut().enumerate() {
        for (k, v) in row.iter_mut().enumerate().skip(whole) {
            *v = rest.get(M * k + p).copied().unwrap_or(0.0);
        }
    }
}

/// [`deinterleave`] for a run-time number of phases.
#[cfg(target_arch = "x86_64")]
fn deinterleave_any(src: &[f32], start: usize, m: usize, span: usize, stride: usize, deint: &mut [f32]) {
    let rest = src.get(start..).unwrap_or(&[]);
    for p in 0..m {
        for (k, v) in deint[p * stride..p * stride + span].iter_mut().enumerate() {
            *v = rest.get(m * k + p).copied().unwrap_or(0.0);
        }
    }
}
