//! A small log-linear histogram for call durations.
//!
//! 8 sub-buckets per power of two (relative error under 6.25 %) over the
//! whole `u64` range of nanoseconds, in 496 `u32` counters (about 2 KiB). A
//! general-purpose HDR histogram at that range and precision needs about
//! 16x the memory, which matters with a histogram per node per session and
//! a thousand live sessions.

/// Counts of durations (ns), for quantiles.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u32; BUCKETS]>,
    total: u64,
}

const SUB_BITS: u32 = 3;
const SUB: u64 = 1 << SUB_BITS;
const LINEAR: u64 = 2 * SUB;
const BUCKETS: usize = (LINEAR + (64 - SUB_BITS as u64 - 1) * SUB) as usize;

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Histogram(n={})", self.total)
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: Box::new([0; BUCKETS]),
            total: 0,
        }
    }
}

fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let exp = 63 - u64::from(v.leading_zeros());
    let sub = (v >> (exp - u64::from(SUB_BITS))) & (SUB - 1);
    (LINEAR + (exp - u64::from(SUB_BITS) - 1) * SUB + sub) as usize
}

/// The smallest value of bucket `b` and the width of the bucket.
fn bucket_range(b: usize) -> (u64, u64) {
    let b = b as u64;
    if b < LINEAR {
        return (b, 1);
    }
    let exp = (b - LINEAR) / SUB + u64::from(SUB_BITS) + 1;
    let sub = (b - LINEAR) % SUB;
    let width = 1u64 << (exp - u64::from(SUB_BITS));
    ((SUB + sub) * width, width)
}

impl Histogram {
    /// Adds one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        let c = &mut self.counts[bucket(v)];
        *c = c.saturating_add(1);
        self.total += 1;
    }

    /// Adds every value recorded by `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
    }

    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many values were at most `v`, counting each bucket whole when its
    /// middle is at most `v` (so within the bucket resolution, 6.25 %).
    pub fn count_at_most(&self, v: u64) -> u64 {
        self.counts
            .iter()
            .enumerate()
            .take_while(|&(b, _)| {
                let (low, width) = bucket_range(b);
                low + width / 2 <= v
            })
            .map(|(_, &c)| u64::from(c))
            .sum()
    }

    /// The value below which a fraction `q` of the values fall (the middle
    /// of its bucket), or 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                let (low, width) = bucket_range(b);
                return low + width / 2;
            }
        }
        u64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_range_in_order() {
        let mut last = 0;
        for v in (0..5000u64).chain([u64::MAX / 3, u64::MAX]) {
            let b = bucket(v);
            assert!(b < BUCKETS);
            assert!(b >= last);
            last = b;
            let (low, width) = bucket_range(b);
            assert!(low <= v && v - low < width, "v={v} b={b} low={low} width={width}");
        }
    }

    #[test]
    fn quantiles_within_bucket_error() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        for (q, want) in [(0.5, 5_000_000.0), (0.99, 9_900_000.0), (1.0, 10_000_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.0625, "q={q}: {got} vs {want}");
        }
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }
}
