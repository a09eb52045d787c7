//! The polyphase driver: which outputs read which input windows, computed four at a time
//! by the dot-product kernel or, for integer ratios on AVX2/FMA, forty at a time by the
//! tiled kernel.

use super::blocks::TILE;
use super::kernel::Kernel;
use super::table::{Span, Table};
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
/// Largest interpolation factor whose branch tiles are interleaved through a stack buffer.
const MAX_INTERLEAVED: usize = 12;

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
        spans: &[Span],
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
            let tile_of = |p: usize, j0: usize| match spans[p] {
                // A branch that is a unit impulse copies one input frame.
                Span::Single { index, value: 1.0 } => {
                    let mut y = [0.0f32; TILE];
                    y.copy_from_slice(&deint[j0 + index..j0 + index + TILE]);
                    y
                }
                _ => x86::tile(
                    cpu,
                    &coefs[p * taps..(p + 1) * taps],
                    &spans[p..=p],
                    &deint[..span],
                    span,
                    j0,
                ),
            };
            for j0 in (0..kb).step_by(TILE) {
                let lanes = (kb - j0).min(TILE);
                // Tile lane `j` of branch `p` is output (k0 + j0 + j) * up + p: the tiles of
                // all branches interleave into `lanes * up` consecutive outputs from `n0`.
                let n0 = (k0 + j0 as u64) * up;
                let lo = first.saturating_sub(n0) as usize;
                let hi = (end.saturating_sub(n0) as usize).min(lanes * up as usize);
                if lo >= hi {
                    continue;
                }
                let dst = &mut out[(n0 + lo as u64 - first) as usize..][..hi - lo];
                if up as usize <= MAX_INTERLEAVED {
                    let mut ys = [[0.0f32; TILE]; MAX_INTERLEAVED];
                    for (p, y) in ys.iter_mut().enumerate().take(up as usize) {
                        *y = tile_of(p, j0);
                    }
                    match up {
                        2 => interleave::<2>(&ys, lo, dst),
                        3 => interleave::<3>(&ys, lo, dst),
                        4 => interleave::<4>(&ys, lo, dst),
                        6 => interleave::<6>(&ys, lo, dst),
                        12 => interleave::<12>(&ys, lo, dst),
                        _ => {
                            for (i, o) in (lo..hi).zip(dst) {
                                *o = ys[i % up as usize][i / up as usize];
                            }
                        }
                    }
                } else {
                    for p in 0..up as usize {
                        let y = tile_of(p, j0);
                        let skip = (p + up as usize - lo % up as usize) % up as usize;
                        let from = (lo + skip) / up as usize;
                        for (o, v) in dst.iter_mut().skip(skip).step_by(up as usize).zip(&y[from..]) {
                            *o = *v;
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
        spans: &[Span],
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
                let y = x86::tile(cpu, poly, spans, deint, stride, t * TILE);
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
                self.run_tiled(cpu, table.poly(), table.spans(), src, src_start, first, out, deint)
            } else {
                self.run_tiled_up(
                    cpu,
                    table.coefficients(),
                    table.spans(),
                    src,
                    src_start,
                    first,
                    out,
                    deint,
                )
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
        if rows_are_cheaper(count, up, self.taps) {
            // Few outputs per branch (a short chunk at a ratio with many branches): group
            // four consecutive outputs instead, so that no lane is wasted.
            let off = (base - lead - src_start) as usize;
            kernel.rows_run(
                table,
                self.taps,
                (phase, off),
                (step_phase, step_base as usize),
                src,
                out,
            );
            return;
        }
        for r in 0..up.min(count) {
            let coef = &table[phase * self.taps..(phase + 1) * self.taps];
            let off = (base - lead - src_start) as usize;
            kernel.branch(coef, src, off, down, &mut out[r..], up);
            phase += step_phase;
            base += step_base;
            if phase >= up {
                phase -= up;
                base += 1;
            }
        }
    }
}

/// Writes the interleaved outputs `lo..lo + dst.len()` of `U` branch tiles (output `i` is
/// lane `i / U` of branch `i % U`) into `dst`.
#[cfg(target_arch = "x86_64")]
fn interleave<const U: usize>(ys: &[[f32; TILE]], lo: usize, dst: &mut [f32]) {
    let head = ((U - lo % U) % U).min(dst.len());
    let (first, rest) = dst.split_at_mut(head);
    for (i, o) in (lo..).zip(first) {
        *o = ys[i % U][i / U];
    }
    let j0 = (lo + head) / U;
    let j = j0 + rest.len() / U;
    let mut whole = rest.chunks_exact_mut(U);
    for (j, o) in (j0..).zip(&mut whole) {
        for (p, v) in o.iter_mut().enumerate() {
            *v = ys[p][j];
        }
    }
    let tail = whole.into_remainder();
    for (p, o) in tail.iter_mut().enumerate() {
        *o = ys[p][j];
    }
}

/// Whether computing `count` consecutive outputs four at a time across branches
/// ([`Kernel::rows_run`]) costs less than four at a time within each of the `up` branches
/// ([`Kernel::branch`], which shares coefficient loads but wastes lanes on branches with
/// fewer than four outputs). Per 8 taps a rows call makes 8 vector loads (four rows, four
/// windows) and a branch call 5 (one row, four windows); either call also pays about 12
/// loads' worth for its reduction and bookkeeping, which weighs more on short filters.
fn rows_are_cheaper(count: usize, up: usize, taps: usize) -> bool {
    // The first `count % up` branches have `count / up + 1` outputs, the others (up to
    // `count` branches in all) `count / up`.
    let (q, rem) = (count / up, count % up);
    let branch_calls = rem * (q + 1).div_ceil(4) + (up.min(count) - rem) * q.div_ceil(4);
    let blocks = taps.div_ceil(8);
    count.div_ceil(4) * (8 * blocks + CALL_COST) < branch_calls * (5 * blocks + CALL_COST)
}

/// What a dot-product call costs besides its loads, in vector loads.
const CALL_COST: usize = 12;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_call_count_matches_a_direct_count() {
        for up in [1usize, 2, 3, 147, 160, 640] {
            for count in (0..2_000).step_by(7) {
                let calls: usize = (0..up.min(count)).map(|r| (count - r).div_ceil(up).div_ceil(4)).sum();
                for taps in [24, 144] {
                    let blocks = taps / 8;
                    assert_eq!(
                        rows_are_cheaper(count, up, taps),
                        count.div_ceil(4) * (8 * blocks + CALL_COST) < calls * (5 * blocks + CALL_COST),
                        "up {up} count {count} taps {taps}"
                    );
                }
            }
        }
    }
}
