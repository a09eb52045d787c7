//! AVX2/FMA kernels. Each public function takes an [`Avx2Fma`] token, which exists only on
//! a CPU with both instruction sets, and checks the bounds its unsafe loads rely on.

use std::arch::x86_64::*;

use super::blocks::{TAP_BLOCK, TAP_GRAIN, TILE, TILE_TAPS};
use super::table::Span;
use super::walk::Walk;
use crate::simd::Avx2Fma;

/// The outputs of one branch, as [`Kernel::branch`](super::kernel::Kernel::branch)
/// describes them, with the loop inside the AVX2 code.
///
/// Panics if a window runs past `src` or `coef.len()` is not a multiple of [`TAP_GRAIN`]
/// (internal invariants, never user input).
pub(super) fn branch(
    _cpu: Avx2Fma,
    coef: &[f32],
    src: &[f32],
    off: usize,
    step: usize,
    out: &mut [f32],
    out_step: usize,
) {
    let count = out.len().div_ceil(out_step);
    let k = coef.len();
    let reach = (count.max(1) - 1)
        .checked_mul(step)
        .and_then(|r| r.checked_add(off)?.checked_add(k));
    assert!(k.is_multiple_of(TAP_GRAIN) && out_step > 0 && reach.is_some_and(|r| r <= src.len()));
    // SAFETY: the token proves AVX2 and FMA, and every window was bounds-checked above.
    unsafe { branch_avx2(coef, src, off, step, out, out_step, count) }
}

/// AVX2/FMA kernel of [`branch`].
///
/// # Safety
/// The CPU must support AVX2 and FMA, `coef.len()` must be a multiple of 8 and every
/// window `src[off + l * step..][..coef.len()]` for `l < count` must be in bounds.
#[target_feature(enable = "avx2,fma")]
unsafe fn branch_avx2(
    coef: &[f32],
    src: &[f32],
    off: usize,
    step: usize,
    out: &mut [f32],
    out_step: usize,
    count: usize,
) {
    let mut l0 = 0;
    while l0 < count {
        let lanes = (count - l0).min(4);
        let offs: [usize; 4] = std::array::from_fn(|l| off + (l0 + l.min(lanes - 1)) * step);
        // SAFETY: the caller guarantees every window of the first `count` outputs.
        let y = unsafe { dot4_avx2(coef, src, offs) };
        for (l, v) in y.iter().enumerate().take(lanes) {
            out[(l0 + l) * out_step] = *v;
        }
        l0 += 4;
    }
}

/// Consecutive outputs of a polyphase filter, `out[j]` for every `j`: output `j` applies
/// row `phase_j` of `table` (`up` rows of `taps`) to `src[off_j..off_j + taps]`, where each
/// output adds `step_phase` to the phase (carrying one frame into the offset when it
/// reaches `up`) and `step_off` to the offset. Each output has the arithmetic of [`dot4`].
///
/// Panics if a row or window would leave `table` or `src` (internal invariants, never user
/// input); the bounds are computed without overflow.
#[allow(clippy::too_many_arguments)]
pub(super) fn rows_run(
    _cpu: Avx2Fma,
    table: &[f32],
    taps: usize,
    (phase, off): (usize, usize),
    (step_phase, step_off): (usize, usize),
    src: &[f32],
    out: &mut [f32],
) {
    let up = table.len() / taps.max(1);
    let n = out.len() as u128;
    // Offset of the last output's window: every step adds `step_off`, plus one per carry.
    let advance = phase as u128 + n.saturating_sub(1) * step_phase as u128;
    let last_off = off as u128 + n.saturating_sub(1) * step_off as u128 + advance / up.max(1) as u128;
    assert!(
        taps.is_multiple_of(TAP_GRAIN)
            && taps > 0
            && table.len() == up * taps
            && phase < up
            && step_phase < up
            && (n == 0 || last_off + taps as u128 <= src.len() as u128)
    );
    // SAFETY: the token proves AVX2 and FMA; rows stay inside `table` (phase < up) and the
    // windows are increasing, the last one bounds-checked above.
    unsafe { rows_run_avx2(table, taps, up, (phase, off), (step_phase, step_off), src, out) }
}

/// AVX2/FMA kernel of [`rows_run`].
///
/// # Safety
/// As checked by [`rows_run`].
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_run_avx2(
    table: &[f32],
    taps: usize,
    up: usize,
    start: (usize, usize),
    step: (usize, usize),
    src: &[f32],
    out: &mut [f32],
) {
    let (t, x) = (table.as_ptr(), src.as_ptr());
    let mut walk = Walk::new(up, start, step);
    for chunk in out.chunks_mut(4) {
        let mut c = [t; 4];
        let mut p = [x; 4];
        for w in 0..4 {
            if w < chunk.len() {
                let (phase, off) = walk.next();
                // SAFETY: `phase < up` and the window is at most the last one checked.
                unsafe {
                    c[w] = t.add(phase * taps);
                    p[w] = x.add(off);
                }
            } else {
                (c[w], p[w]) = (c[0], p[0]);
            }
        }
        // SAFETY: every row and window holds `taps` values.
        let y = unsafe { dot4_ptrs(c, p, taps) };
        chunk.copy_from_slice(&y[..chunk.len()]);
    }
}

/// The shared body of the row kernels: four dot products of `k` taps (a multiple of 8),
/// row `c[w]` against window `p[w]`.
///
/// # Safety
/// AVX2 and FMA must be available and every pointer must have `k` readable values.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot4_ptrs(c: [*const f32; 4], p: [*const f32; 4], k: usize) -> [f32; 4] {
    let mut lo = [_mm256_setzero_ps(); 4];
    let mut hi = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + TAP_BLOCK <= k {
        // SAFETY: `i + 16 <= k`, so both 8-lane loads stay inside every row and window.
        unsafe {
            for w in 0..4 {
                let c0 = _mm256_loadu_ps(c[w].add(i));
                let c1 = _mm256_loadu_ps(c[w].add(i + 8));
                lo[w] = _mm256_fmadd_ps(c0, _mm256_loadu_ps(p[w].add(i)), lo[w]);
                hi[w] = _mm256_fmadd_ps(c1, _mm256_loadu_ps(p[w].add(i + 8)), hi[w]);
            }
        }
        i += TAP_BLOCK;
    }
    if i < k {
        // SAFETY: `i + 8 == k`: the half block stays inside every row and window.
        unsafe {
            for w in 0..4 {
                let c0 = _mm256_loadu_ps(c[w].add(i));
                lo[w] = _mm256_fmadd_ps(c0, _mm256_loadu_ps(p[w].add(i)), lo[w]);
            }
        }
    }
    reduce4(lo, hi)
}

/// AVX2/FMA version of [`dot4_portable`](super::kernel::dot4_portable): two 8-lane accumulators per output, eight
/// independent FMA chains, one coefficient load shared by four windows. It is bound by
/// loads (ten per sixteen taps of four outputs, half of the input loads split across cache
/// lines): on 48 -> 16 kHz `High` it measured 0.29 ms per second of audio with 352 taps,
/// where the tiled decimator ([`tile_avx2`]) measured 0.21 ms with 384 taps in consecutive
/// runs of `compare.py`, 1.5x faster per tap.
///
/// # Safety
/// The CPU must support AVX2 and FMA, `coef.len()` must be a multiple of 8 and every
/// window `src[o..o + coef.len()]` must be in bounds.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot4_avx2(coef: &[f32], src: &[f32], offs: [usize; 4]) -> [f32; 4] {
    let k = coef.len();
    let c = coef.as_ptr();
    // SAFETY: the caller guarantees `o + k <= src.len()` for every offset.
    let p = offs.map(|o| unsafe { src.as_ptr().add(o) });
    let mut lo = [_mm256_setzero_ps(); 4];
    let mut hi = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + TAP_BLOCK <= k {
        // SAFETY: `i + 16 <= k`, so both 8-lane loads stay inside `coef` and inside each
        // window.
        unsafe {
            let c0 = _mm256_loadu_ps(c.add(i));
            let c1 = _mm256_loadu_ps(c.add(i + 8));
            for w in 0..4 {
                lo[w] = _mm256_fmadd_ps(c0, _mm256_loadu_ps(p[w].add(i)), lo[w]);
                hi[w] = _mm256_fmadd_ps(c1, _mm256_loadu_ps(p[w].add(i + 8)), hi[w]);
            }
        }
        i += TAP_BLOCK;
    }
    if i < k {
        // SAFETY: `i + 8 == k`: the half block stays inside `coef` and every window.
        unsafe {
            let c0 = _mm256_loadu_ps(c.add(i));
            for w in 0..4 {
                lo[w] = _mm256_fmadd_ps(c0, _mm256_loadu_ps(p[w].add(i)), lo[w]);
            }
        }
    }
    reduce4(lo, hi)
}

/// The four sums `lo[w] + hi[w]` over their eight lanes, in a fixed order.
#[target_feature(enable = "avx2,fma")]
fn reduce4(lo: [__m256; 4], hi: [__m256; 4]) -> [f32; 4] {
    let mut out = [0.0f32; 4];
    for w in 0..4 {
        let v = _mm256_add_ps(lo[w], hi[w]);
        let s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        let s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
        out[w] = _mm_cvtss_f32(s1);
    }
    out
}

/// One tile of [`TILE`] outputs of the tiled kernels: output `j0 + j` is
/// `sum over p, a of poly[p * a_len + a] * deint[p * stride + j0 + j + a]`, where
/// `a_len = poly.len() / spans.len()` and phase `p` visits only the taps `spans[p]` names
/// (the caller guarantees that the others are zero).
///
/// Panics if `spans` is empty or the reads would leave `poly` or `deint` (internal
/// invariants); the bounds are computed without overflow, so no arguments make it read
/// out of bounds.
pub(super) fn tile(
    _cpu: Avx2Fma,
    poly: &[f32],
    spans: &[Span],
    deint: &[f32],
    stride: usize,
    j0: usize,
) -> [f32; TILE] {
    let m = spans.len();
    let a_len = poly.len() / m;
    let reach = (m - 1)
        .checked_mul(stride)
        .and_then(|r| r.checked_add(j0)?.checked_add(a_len)?.checked_add(TILE));
    let inside = |s: &Span| match *s {
        Span::Blocks { start, end } => start <= end && end * TILE_TAPS <= a_len,
        Span::Single { index, .. } => index < a_len,
    };
    assert!(
        a_len.is_multiple_of(TILE_TAPS)
            && poly.len() == m * a_len
            && spans.iter().all(inside)
            && reach.is_some_and(|r| r <= deint.len())
    );
    // SAFETY: the token proves AVX2 and FMA, and the bounds were checked above.
    unsafe { tile_avx2(poly, a_len, spans, deint, stride, j0) }
}

/// AVX2/FMA kernel of [`tile`]. Ten accumulators (five output vectors, taps split
/// even/odd) hide the FMA latency; four broadcast coefficients reuse each loaded input
/// vector, so the loop is bound by FMA throughput rather than loads.
///
/// # Safety
/// AVX2 and FMA must be available, `a_len` a multiple of 32, `poly` at least
/// `spans.len() * a_len` long, every span within `a_len`, and `deint` at least
/// `(spans.len() - 1) * stride + j0 + a_len + TILE` long.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_avx2(
    poly: &[f32],
    a_len: usize,
    spans: &[Span],
    deint: &[f32],
    stride: usize,
    j0: usize,
) -> [f32; TILE] {
    const V: usize = TILE / 8;
    let mut total = [_mm256_setzero_ps(); V];
    for (p, span) in spans.iter().enumerate() {
        let (b0, b1) = match *span {
            Span::Blocks { start, end } => (start, end),
            Span::Single { index, value } => {
                let c = _mm256_set1_ps(value);
                for (v, t) in total.iter_mut().enumerate() {
                    // SAFETY: `index < a_len`, so the read ends before
                    // `p * stride + j0 + a_len + 39`, inside `deint`.
                    let x = unsafe { _mm256_loadu_ps(deint.as_ptr().add(p * stride + j0 + index + 8 * v)) };
                    *t = _mm256_fmadd_ps(c, x, *t);
                }
                continue;
            }
        };
        // SAFETY: offsets stay within the lengths the caller guarantees: coefficient reads
        // end at `p * a_len + a_len`, input reads at `p * stride + j0 + a_len + 39`.
        unsafe {
            let cp = poly.as_ptr().add(p * a_len);
            let dp = deint.as_ptr().add(p * stride + j0);
            let mut blk = b0 * TILE_TAPS;
            while blk < b1 * TILE_TAPS {
                // Short partial sums per block of 32 taps keep the rounding error of long
                // filters at the level of a pairwise sum.
                let mut even = [_mm256_setzero_ps(); V];
                let mut odd = [_mm256_setzero_ps(); V];
                for u in 0..8 {
                    let a = blk + u;
                    let c = [
                        _mm256_broadcast_ss(&*cp.add(a)),
                        _mm256_broadcast_ss(&*cp.add(a + 8)),
                        _mm256_broadcast_ss(&*cp.add(a + 16)),
                        _mm256_broadcast_ss(&*cp.add(a + 24)),
                    ];
                    for w in 0..V + 3 {
                        let x = _mm256_loadu_ps(dp.add(a + 8 * w));
                        for (t, ct) in c.iter().enumerate() {
                            if w >= t && w - t < V {
                                let v = w - t;
                                if t % 2 == 0 {
                                    even[v] = _mm256_fmadd_ps(*ct, x, even[v]);
                                } else {
                                    odd[v] = _mm256_fmadd_ps(*ct, x, odd[v]);
                                }
                            }
                        }
                    }
                }
                for v in 0..V {
                    total[v] = _mm256_add_ps(total[v], _mm256_add_ps(even[v], odd[v]));
                }
                blk += TILE_TAPS;
            }
        }
    }
    let mut out = [0.0f32; TILE];
    for (v, t) in total.iter().enumerate() {
        // SAFETY: `out` has room for `V` vectors of 8 lanes.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(8 * v), *t) };
    }
    out
}
