//! The polyphase coefficient table and the process-wide cache that shares it between
//! resamplers of the same ratio and quality.

use std::sync::{Arc, Mutex, PoisonError};

use super::blocks::TILE_TAPS;
use super::design::fill_table;
use super::quality::FilterSpec;

/// Number of designed tables kept for reuse by later [`Resampler::new`] calls.
const TABLE_CACHE_LEN: usize = 32;

/// Returns the table for `(up, down, spec)`, designing it only if none of the last
/// [`TABLE_CACHE_LEN`] designs matches. The cache makes creating a resampler per stream or
/// per clip cost an `Arc` clone after the first, and lets concurrent streams share one
/// table. The filter depends on the rates only through their ratio.
pub(super) fn shared_table(
    spec: FilterSpec,
    in_rate: u32,
    out_rate: u32,
    up: u32,
    down: u32,
    taps: usize,
) -> Arc<Table> {
    type Key = (u32, u32, [u64; 3]);
    type Cache = Vec<(Key, Arc<Table>)>;
    static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
    let key = (
        up,
        down,
        [spec.pass.to_bits(), spec.stop.to_bits(), spec.atten_db.to_bits()],
    );
    let lookup = |cache: &Cache| cache.iter().find(|(k, _)| *k == key).map(|(_, t)| Arc::clone(t));
    if let Some(table) = lookup(&CACHE.lock().unwrap_or_else(PoisonError::into_inner)) {
        return table;
    }
    let table = Arc::new(Table::design(spec, in_rate, out_rate, up as usize, down as usize, taps));
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = lookup(&cache) {
        return existing;
    }
    if cache.len() == TABLE_CACHE_LEN {
        cache.remove(0);
    }
    cache.push((key, Arc::clone(&table)));
    table
}

/// The polyphase coefficient table, starting on a cache-line boundary so that the kernel's
/// 8-lane coefficient loads never straddle two lines.
pub(super) struct Table {
    data: Vec<f32>,
    start: usize,
    len: usize,
    /// For integer decimation by `m` (one branch): the taps regrouped by input phase,
    /// `poly[p * taps / m + a] = branch[m * a + p]`. Empty otherwise.
    poly: Vec<f32>,
    /// Per input phase of `poly` (decimation) or per branch (interpolation): which taps
    /// the tiled kernels must visit. Empty for other ratios.
    spans: Vec<Span>,
}

/// The taps of one phase or branch that can be nonzero, for the tiled kernels to skip the
/// rest (a half-band filter is zero at every other tap).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Span {
    /// Blocks `start..end` of [`TILE_TAPS`] taps hold every nonzero tap.
    Blocks { start: usize, end: usize },
    /// The only nonzero tap is `value` at `index`: one multiply-add per output (a copy
    /// when it is 1.0).
    Single { index: usize, value: f32 },
}

impl Span {
    /// The span of `row` (whose length is a multiple of [`TILE_TAPS`]).
    fn of(row: &[f32]) -> Self {
        let mut nonzero = row.iter().enumerate().filter(|(_, c)| **c != 0.0);
        match (nonzero.next(), nonzero.next()) {
            (Some((index, &value)), None) => Span::Single { index, value },
            (None, _) => Span::Blocks { start: 0, end: 0 },
            (Some((first, _)), _) => {
                let last = row.iter().rposition(|&c| c != 0.0).unwrap_or(first);
                Span::Blocks {
                    start: first / TILE_TAPS,
                    end: last / TILE_TAPS + 1,
                }
            }
        }
    }
}

impl Table {
    /// Floats per 64-byte cache line.
    const LINE: usize = 16;

    pub(super) fn coefficients(&self) -> &[f32] {
        &self.data[self.start..self.start + self.len]
    }

    pub(super) fn poly(&self) -> &[f32] {
        &self.poly
    }

    pub(super) fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Builds the `up x taps` table (empty for `taps == 0`). Branch `p` holds the taps for
    /// outputs whose position `n*down/up` has fractional part `p/up`; tap `i` weighs input
    /// frame `floor(n*down/up) - (taps/2 - 1) + i`, i.e. the kernel at distance
    /// `p/up + taps/2 - 1 - i` input frames. The branches are normalised together to unit
    /// DC gain on average.
    fn design(spec: FilterSpec, in_rate: u32, out_rate: u32, up: usize, down: usize, taps: usize) -> Self {
        let len = up * taps;
        let mut data = vec![0.0f32; len + Self::LINE];
        let misalign = data.as_ptr() as usize % 64 / std::mem::size_of::<f32>();
        let start = (Self::LINE - misalign) % Self::LINE;
        let mut poly = Vec::new();
        let mut spans = Vec::new();
        if taps > 0 {
            let table = &mut data[start..start + len];
            fill_table(spec, in_rate, out_rate, taps, table);
            if up == 1 && taps.is_multiple_of(TILE_TAPS * down) {
                let a_len = taps / down;
                poly = (0..taps).map(|k| table[down * (k % a_len) + k / a_len]).collect();
                spans = poly.chunks_exact(a_len).map(Span::of).collect();
            } else if down == 1 && taps.is_multiple_of(TILE_TAPS) {
                spans = table.chunks_exact(taps).map(Span::of).collect();
            }
        }
        Self {
            data,
            start,
            len,
            poly,
            spans,
        }
    }
}
