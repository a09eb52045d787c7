//! The hop analysis: spectrum, noise floors, band SNRs, periodicity and stationarity,
//! written into one feature vector per hop (see [`super::layout`] for where each value goes).

use super::super::fft::{self, HalfComplexFft};
use super::averages::{Averages, ema_coeff};
use super::fastmath::{fast_db, fast_ln, lane_sum, lane_sum_abs};
use super::layout::{BASE_FEATURES, CONTEXT_HOPS, CONTEXT_LEN, Feature, NUM_FEATURES};
use super::timing::{ANALYSIS_RATE, HOP_LEN, HOP_RATE, hops};
use crate::simd::Avx2;

/// Time constant (s) of the power spectrum's smoothing over hops.
const SMOOTHING_S: f32 = 0.02;
/// Time constant (s) with which the noise floor falls to a lower smoothed power.
const FLOOR_FALL_S: f32 = 0.045;
/// A hop whose mean band SNR falls faster than this (dB per second) counts as decaying.
const DECAY_DB_PER_S: f32 = 20.0;
/// How fast (dB per second) the noise floor may rise when the level goes up.
const FLOOR_RISE_DB_PER_S: f32 = 4.0;
/// How fast (dB per second) the second, fast noise floor may rise: a noise
/// that steps up by 15 dB is inside it within a second, a talker's syllables
/// (with dips between them) are not.
const FAST_FLOOR_RISE_DB_PER_S: f32 = 20.0;

/// For the first [`WARMUP_HOPS`] of a stream the floor may rise this fast
/// (dB per second): the first estimate is one hop's spectrum, often too low
/// in places, and a sound present from the start (music, a fan) must settle
/// into the floor quickly instead of looking like a stream of onsets.
const WARMUP_RISE_DB_PER_S: f32 = 12.0;
/// Samples per block of the crest measure (4 ms).
const CREST_BLOCK: usize = ANALYSIS_RATE as usize / 250;
const _: () = assert!(HOP_LEN.is_multiple_of(CREST_BLOCK));

/// Length of the warm-up, in hops (1 s).
const WARMUP_HOPS: u64 = hops(1_000) as u64;

/// Analysis window and transform length in samples (32 ms).
const FFT_LEN: usize = fft::LEN;

/// The transform bin nearest to `hz`.
const fn bin(hz: u32) -> usize {
    (hz as usize * FFT_LEN + ANALYSIS_RATE as usize / 2) / ANALYSIS_RATE as usize
}

/// Band edges in Hz for the band SNR features.
const BAND_EDGES_HZ: [u32; 9] = [100, 250, 400, 600, 900, 1300, 1900, 2800, 4000];
const NUM_BANDS: usize = BAND_EDGES_HZ.len() - 1;
/// First analysed bin (100 Hz).
const LO: usize = bin(BAND_EDGES_HZ[0]);
/// One past the last analysed bin (4 kHz, the Nyquist bin, is left out).
const HI: usize = bin(BAND_EDGES_HZ[NUM_BANDS]);
/// Analysed bins; per-bin arrays are indexed from [`LO`].
const NB: usize = HI - LO;
/// One past the last bin of the periodicity analysis (3.5 kHz).
const PERIODICITY_HI: usize = bin(3_500);
/// Bins in the periodicity analysis.
const NP: usize = PERIODICITY_HI - LO;
/// Half width in bins of the moving average removed before the periodicity analysis (250 Hz).
const ENVELOPE_HALF_WIDTH: usize = bin(250);
/// Bins of the fine spectrum compared for stationarity: 64 from 100 Hz (to 2.1 kHz;
/// a multiple of 8, so the correlation sums run in whole vector lanes).
const NF: usize = 64;
/// Shortest pitch lag in samples (400 Hz).
const LAG_MIN: usize = ANALYSIS_RATE as usize / 400;
/// Longest pitch lag in samples (70 Hz).
const LAG_MAX: usize = ANALYSIS_RATE as usize / 70;
/// Hops between the two spectra compared for short-term stationarity (60 ms).
const STATIONARITY_LAG: usize = hops(60);
/// Hops between the two spectra compared for long-term stationarity (200 ms).
const STATIONARITY_LAG_LONG: usize = hops(200);
/// Hops over which the pitch drift is measured (60 ms).
const PITCH_DRIFT_HOPS: usize = hops(60);
/// Largest pitch drift reported, in octaves (also the value when either hop is unvoiced).
const PITCH_DRIFT_CAP: f32 = 0.2;
/// Pitch drift below which a voiced hop counts as holding its pitch (0.5 %, in octaves).
const PITCH_HELD_OCTAVES: f32 = 0.0072;
// The index arithmetic below relies on these.
const _: () = assert!(LO >= 1 && HI <= FFT_LEN / 2 && LAG_MAX + 1 < FFT_LEN / 2 && LAG_MIN > 0);
const _: () = assert!(NF <= NB && NF.is_multiple_of(8) && NP > 2 * ENVELOPE_HALF_WIDTH);

/// The 8 kHz analysis state behind [`FeatureExtractor`].
pub(super) struct Analysis {
    window: [f32; FFT_LEN],
    history: [f32; FFT_LEN],
    fft: HalfComplexFft,
    /// The ripple spectrum handed to the inverse transform, and its output.
    cepstrum_in: [f32; fft::BINS],
    acf: [f32; FFT_LEN],
    /// Power spectrum, smoothed power, noise floor and fast-rising noise floor of bins `LO..HI`.
    power: [f32; NB],
    smoothed: [f32; NB],
    floor: [f32; NB],
    fast_floor: [f32; NB],
    /// Periodicity working arrays: log floor-relative power, its prefix sums.
    ripple: [f32; NP],
    prefix: [f32; NP + 1],
    /// `1 / (number of bins)` of each bin's moving-average window.
    inv_width: [f32; NP],
    fine_ring: [[f32; NF]; STATIONARITY_LAG_LONG],
    /// Sum and sum of squares of each `fine_ring` slot.
    fine_sums: [(f32, f32); STATIONARITY_LAG_LONG],
    ring_pos: usize,
    context: [[f32; BASE_FEATURES]; CONTEXT_LEN],
    context_pos: usize,
    prev_band_snr: [f32; NUM_BANDS],
    prev_lag: usize,
    /// Sub-sample pitch lag of the last hops (0 when unvoiced), newest at `pitch_pos`.
    pitch_ring: [f32; PITCH_DRIFT_HOPS],
    pitch_pos: usize,
    prev_voiced: bool,
    /// The previous hop's last sample (for the first difference of [`Self::crest`]).
    last_sample: f32,
    /// Per-hop coefficients: power smoothing, noise floor fall.
    smooth_coeff: f32,
    fall_coeff: f32,
    floor_rise: f32,
    fast_floor_rise: f32,
    warmup_rise: f32,
    pub(super) hops: u64,
    avg: Averages,
    pub(super) out: [f32; NUM_FEATURES],
    /// Present when the CPU has AVX2 (the hop analysis then runs 8 lanes wide).
    cpu: Option<Avx2>,
}

impl Analysis {
    pub(super) fn new() -> Self {
        let mut window = [0.0; FFT_LEN];
        for (i, w) in window.iter_mut().enumerate() {
            let x = std::f64::consts::PI * (i as f64 + 0.5) / FFT_LEN as f64;
            *w = x.sin().powi(2) as f32;
        }
        let mut inv_width = [0.0; NP];
        for (i, w) in inv_width.iter_mut().enumerate() {
            let (a, b) = Self::envelope_range(i);
            *w = 1.0 / (b - a) as f32;
        }
        Self {
            window,
            history: [0.0; FFT_LEN],
            fft: HalfComplexFft::new(),
            cepstrum_in: [0.0; fft::BINS],
            acf: [0.0; FFT_LEN],
            power: [0.0; NB],
            smoothed: [0.0; NB],
            floor: [0.0; NB],
            fast_floor: [0.0; NB],
            ripple: [0.0; NP],
            prefix: [0.0; NP + 1],
            inv_width,
            fine_ring: [[0.0; NF]; STATIONARITY_LAG_LONG],
            fine_sums: [(0.0, 0.0); STATIONARITY_LAG_LONG],
            ring_pos: 0,
            context: [[0.0; BASE_FEATURES]; CONTEXT_LEN],
            context_pos: 0,
            prev_band_snr: [0.0; NUM_BANDS],
            prev_lag: 0,
            pitch_ring: [0.0; PITCH_DRIFT_HOPS],
            pitch_pos: 0,
            prev_voiced: false,
            last_sample: 0.0,
            smooth_coeff: ema_coeff(SMOOTHING_S),
            fall_coeff: ema_coeff(FLOOR_FALL_S),
            floor_rise: 10f32.powf(FLOOR_RISE_DB_PER_S / HOP_RATE / 10.0),
            fast_floor_rise: 10f32.powf(FAST_FLOOR_RISE_DB_PER_S / HOP_RATE / 10.0),
            warmup_rise: 10f32.powf(WARMUP_RISE_DB_PER_S / HOP_RATE / 10.0),
            hops: 0,
            avg: Averages::new(),
            out: [0.0; NUM_FEATURES],
            cpu: Avx2::detect(),
        }
    }

    /// Bins (indices into the periodicity arrays) averaged around bin `i`.
    #[inline(always)]
    fn envelope_range(i: usize) -> (usize, usize) {
        (
            i.saturating_sub(ENVELOPE_HALF_WIDTH),
            (i + ENVELOPE_HALF_WIDTH + 1).min(NP),
        )
    }

    pub(super) fn reset(&mut self) {
        self.history.fill(0.0);
        self.smoothed.fill(0.0);
        self.floor.fill(0.0);
        self.fast_floor.fill(0.0);
        self.fine_ring = [[0.0; NF]; STATIONARITY_LAG_LONG];
        self.fine_sums = [(0.0, 0.0); STATIONARITY_LAG_LONG];
        self.ring_pos = 0;
        self.context = [[0.0; BASE_FEATURES]; CONTEXT_LEN];
        self.context_pos = 0;
        self.prev_band_snr = [0.0; NUM_BANDS];
        self.prev_lag = 0;
        self.pitch_ring = [0.0; PITCH_DRIFT_HOPS];
        self.pitch_pos = 0;
        self.prev_voiced = false;
        self.last_sample = 0.0;
        self.hops = 0;
        self.avg = Averages::new();
    }

    /// Analyses one hop, writes its feature vector into `self.out` and returns its mean band SNR.
    pub(super) fn push_hop(&mut self, hop: &[f32; HOP_LEN]) -> f32 {
        match self.cpu {
            #[cfg(target_arch = "x86_64")]
            Some(cpu) => self.push_hop_avx2(cpu, hop),
            _ => self.analyse(hop),
        }
    }

    /// [`Self::analyse`] compiled for AVX2 (8-wide loops; the same operations
    /// in the same order, so the features are bit-identical to the portable build).
    #[cfg(target_arch = "x86_64")]
    fn push_hop_avx2(&mut self, _cpu: Avx2, hop: &[f32; HOP_LEN]) -> f32 {
        // SAFETY: the token proves the CPU supports AVX2.
        unsafe { self.analyse_avx2(hop) }
    }

    /// The body of [`Self::push_hop_avx2`].
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn analyse_avx2(&mut self, hop: &[f32; HOP_LEN]) -> f32 {
        self.analyse(hop)
    }

    /// The body of [`Self::push_hop`]; everything it calls is inlined into it.
    #[inline(always)]
    fn analyse(&mut self, hop: &[f32; HOP_LEN]) -> f32 {
        self.history.copy_within(HOP_LEN.., 0);
        self.history[FFT_LEN - HOP_LEN..].copy_from_slice(hop);
        self.fft.power(&self.history, &self.window, LO, &mut self.power);
        for p in &mut self.power {
            *p += 1e-12;
        }
        self.update_floor();
        let (band_snr, fast_snr) = self.band_snr_db();
        let (harmonicity, lag, fine_lag) = self.periodicity();
        let (stationarity, stationarity_200ms) = self.stationarity();
        let crest = self.crest(hop);
        self.hops += 1;

        let mean_snr = band_snr.iter().sum::<f32>() / NUM_BANDS as f32;
        let flux = band_snr
            .iter()
            .zip(self.prev_band_snr.iter())
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / NUM_BANDS as f32;
        let prev_mean_snr = self.prev_band_snr.iter().sum::<f32>() / NUM_BANDS as f32;
        self.prev_band_snr = band_snr;
        let voiced = harmonicity > 0.3;
        let pitch_jump = if voiced && self.prev_voiced && self.prev_lag > 0 {
            ((lag as f32) / (self.prev_lag as f32)).log2().abs().min(1.0)
        } else {
            1.0
        };
        self.prev_voiced = voiced;
        self.prev_lag = lag;
        // The slot about to be overwritten holds the pitch from PITCH_DRIFT_HOPS hops ago.
        self.pitch_pos = (self.pitch_pos + 1) % self.pitch_ring.len();
        let before = self.pitch_ring[self.pitch_pos];
        let now = if voiced { fine_lag } else { 0.0 };
        self.pitch_ring[self.pitch_pos] = now;
        let drift = if now > 0.0 && before > 0.0 {
            (now / before).log2().abs().min(PITCH_DRIFT_CAP)
        } else {
            PITCH_DRIFT_CAP
        };

        use Feature as F;
        let mut base = [0.0f32; BASE_FEATURES];
        const _: () = assert!(F::BandSnr7 as usize - F::BandSnr0 as usize + 1 == NUM_BANDS);
        for (o, s) in base[F::BandSnr0 as usize..].iter_mut().zip(band_snr.iter()) {
            *o = s / 10.0;
        }
        let avg = &mut self.avg;
        let m = avg.snr_mean.update(mean_snr);
        let sq = avg.snr_square.update(mean_snr * mean_snr);
        base[F::MeanSnr as usize] = mean_snr / 10.0;
        base[F::Harmonicity as usize] = harmonicity;
        base[F::PitchJump as usize] = pitch_jump;
        base[F::Flux as usize] = flux / 10.0;
        base[F::Stationarity as usize] = stationarity;
        base[F::HarmonicityAvg as usize] = avg.harmonicity.update(harmonicity);
        base[F::PitchJumpAvg as usize] = avg.pitch_jump.update(pitch_jump);
        base[F::FluxAvg as usize] = avg.flux.update(flux) / 10.0;
        base[F::StationarityAvg as usize] = avg.stationarity.update(stationarity);
        base[F::SnrModulation as usize] = (sq - m * m).max(0.0).sqrt() / 10.0;
        let high = (band_snr[6] + band_snr[7]) * 0.5;
        let low = (band_snr[0] + band_snr[1] + band_snr[2] + band_snr[3]) * 0.25;
        base[F::Tilt as usize] = (high - low) / 10.0;
        base[F::VoicedShare as usize] = avg.voiced_long.update(if voiced { 1.0 } else { 0.0 });
        base[F::StationarityLong as usize] = avg.stationarity_long.update(stationarity);
        base[F::Stationarity200ms as usize] = stationarity_200ms;
        base[F::Stationarity200msAvg as usize] = avg.stationarity_200ms.update(stationarity_200ms);
        let long_mean = avg.snr_mean_long.value;
        base[F::LowEnergyShare as usize] = avg.low_energy.update(f32::from(u8::from(mean_snr < long_mean - 5.0)));
        let ml = avg.snr_mean_long.update(mean_snr);
        let sql = avg.snr_square_long.update(mean_snr * mean_snr);
        base[F::SnrModulationLong as usize] = (sql - ml * ml).max(0.0).sqrt() / 10.0;
        base[F::DecayingShare as usize] = avg.decaying.update(f32::from(u8::from(
            mean_snr < prev_mean_snr - DECAY_DB_PER_S / HOP_RATE,
        )));
        base[F::PitchDrift as usize] = drift / PITCH_DRIFT_CAP;
        base[F::PitchHeldShare as usize] = avg.pitch_held.update(f32::from(u8::from(drift < PITCH_HELD_OCTAVES)));
        base[F::FastFloorSnr as usize] = fast_snr / 10.0;
        let spread = band_snr.iter().map(|s| (s - mean_snr) * (s - mean_snr)).sum::<f32>() / NUM_BANDS as f32;
        base[F::BandSnrSpread as usize] = spread.sqrt() / 10.0;
        base[F::Crest as usize] = crest / 10.0;
        base[F::CrestAvg as usize] = avg.crest.update(crest) / 10.0;

        self.context[self.context_pos] = base;
        for (c, back) in CONTEXT_HOPS.iter().enumerate() {
            let slot = (self.context_pos + CONTEXT_LEN - back) % CONTEXT_LEN;
            self.out[c * BASE_FEATURES..(c + 1) * BASE_FEATURES].copy_from_slice(&self.context[slot]);
        }
        self.context_pos = (self.context_pos + 1) % CONTEXT_LEN;
        mean_snr
    }

    /// Smooths the power spectrum over time and updates the per-bin noise floor.
    #[inline(always)]
    fn update_floor(&mut self) {
        if self.hops == 0 {
            self.smoothed = self.power;
            self.floor = self.power;
            self.fast_floor = self.power;
            return;
        }
        let rise = if self.hops < WARMUP_HOPS {
            self.warmup_rise
        } else {
            self.floor_rise
        };
        let fast_rise = self.fast_floor_rise.max(rise);
        let bins = self
            .smoothed
            .iter_mut()
            .zip(self.floor.iter_mut())
            .zip(self.fast_floor.iter_mut());
        for (((s, f), g), &p) in bins.zip(&self.power) {
            *s += self.smooth_coeff * (p - *s);
            let falling = *f + self.fall_coeff * (*s - *f);
            let rising = (*f * rise).min(*s);
            *f = if *s < *f { falling } else { rising };
            let falling = *g + self.fall_coeff * (*s - *g);
            let rising = (*g * fast_rise).min(*s);
            *g = if *s < *g { falling } else { rising };
        }
    }

    /// Band SNRs in dB (smoothed power over floor), clamped to 0..50 dB, and
    /// the SNR of the whole band over the fast-rising floor (same clamp).
    #[inline(always)]
    fn band_snr_db(&self) -> ([f32; NUM_BANDS], f32) {
        let mut out = [0.0; NUM_BANDS];
        let mut fast = 0.0;
        for (b, o) in out.iter_mut().enumerate() {
            let range = bin(BAND_EDGES_HZ[b]) - LO..bin(BAND_EDGES_HZ[b + 1]) - LO;
            let s = lane_sum(&self.smoothed[range.clone()]);
            let f = lane_sum(&self.floor[range.clone()]);
            *o = fast_db(s / f).clamp(0.0, 50.0);
            fast += fast_db(s / lane_sum(&self.fast_floor[range])).clamp(0.0, 50.0);
        }
        (out, fast / NUM_BANDS as f32)
    }

    /// Periodicity of the log floor-relative spectrum with its 500 Hz moving
    /// average removed (leaving the harmonic ripple): the largest cosine match
    /// over pitch lags, normalised by the ripple's spread, its lag in samples
    /// and that lag refined by a parabola through the peak and its neighbours.
    #[inline(always)]
    fn periodicity(&mut self) -> (f32, usize, f32) {
        for ((r, &p), &f) in self.ripple.iter_mut().zip(&self.power).zip(&self.floor) {
            *r = fast_ln(1.0 + p / f);
        }
        self.prefix[0] = 0.0;
        for i in 0..NP {
            self.prefix[i + 1] = self.prefix[i] + self.ripple[i];
        }
        // v = ripple minus its moving average; the window is clipped at both
        // ends of the band, so those bins are done apart and the middle runs
        // on contiguous slices (it vectorises). A vectorised box sum (one
        // shifted slice per offset) instead of the serial prefix sum measured
        // 0.3 µs slower per hop.
        let hw = ENVELOPE_HALF_WIDTH;
        let v = &mut self.cepstrum_in[LO..PERIODICITY_HI];
        for i in (0..hw).chain(NP - hw..NP) {
            let (a, b) = Self::envelope_range(i);
            v[i] = self.ripple[i] - (self.prefix[b] - self.prefix[a]) * self.inv_width[i];
        }
        let middle = hw..NP - hw;
        let parts = self.ripple[middle.clone()]
            .iter()
            .zip(&self.prefix[middle.start + hw + 1..middle.end + hw + 1])
            .zip(&self.prefix[middle.start - hw..middle.end - hw])
            .zip(&self.inv_width[middle.clone()]);
        for (o, (((&r, &b), &a), &w)) in v[middle].iter_mut().zip(parts) {
            *o = r - (b - a) * w;
        }
        let spread = lane_sum_abs(v);
        self.fft.inverse_even(&self.cepstrum_in, &mut self.acf);
        // The inverse transform sums each bin twice (it and its mirror), so
        // `2·spread` bounds every lag: a perfectly regular comb comes near 0.8.
        let norm = 2.0 * spread;
        if norm <= 1e-6 {
            return (0.0, 0, 0.0);
        }
        let lags = &self.acf[LAG_MIN..=LAG_MAX];
        let mut peak = [f32::MIN; 8];
        for c in lags.chunks(8) {
            for (m, &v) in peak.iter_mut().zip(c) {
                *m = m.max(v);
            }
        }
        let best = peak.iter().copied().fold(f32::MIN, f32::max);
        let lag = LAG_MIN + lags.iter().position(|&v| v == best).unwrap_or(0);
        let (left, right) = (self.acf[lag - 1], self.acf[lag + 1]);
        let curvature = left - 2.0 * best + right;
        let offset = if curvature < 0.0 {
            (0.5 * (left - right) / curvature).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        ((best / norm).clamp(0.0, 1.0), lag, lag as f32 + offset)
    }

    /// How impulsive the hop is: the energy of its loudest [`CREST_BLOCK`] of
    /// the first difference (which takes out hum and rumble and sharpens
    /// clicks) over the mean block energy, in dB (0 for silence).
    #[inline(always)]
    fn crest(&mut self, hop: &[f32; HOP_LEN]) -> f32 {
        let mut energy = [0.0f32; HOP_LEN / CREST_BLOCK];
        let mut prev = self.last_sample;
        for (e, block) in energy.iter_mut().zip(hop.chunks_exact(CREST_BLOCK)) {
            for &x in block {
                let d = x - prev;
                *e += d * d;
                prev = x;
            }
        }
        self.last_sample = prev;
        let total: f32 = energy.iter().sum();
        let loudest = energy.iter().copied().fold(0.0f32, f32::max);
        if total <= 1e-20 {
            0.0
        } else {
            fast_db(loudest * energy.len() as f32 / total)
        }
    }

    /// Correlations between the fine floor-relative spectrum now and 60 ms
    /// and 200 ms ago.
    #[inline(always)]
    fn stationarity(&mut self) -> (f32, f32) {
        let slots = STATIONARITY_LAG_LONG;
        let short = (self.ring_pos + slots - STATIONARITY_LAG) % slots;
        let mut x = [0.0f32; NF];
        for ((xi, &s), &f) in x.iter_mut().zip(&self.smoothed).zip(&self.floor) {
            *xi = fast_ln(1.0 + s / f);
        }
        // The slot about to be overwritten holds the spectrum from 200 ms ago.
        // Each slot's own sums were computed when it was written (the same
        // lanes in the same order, so they equal what a fresh pass would give).
        let z = &self.fine_ring[self.ring_pos];
        let y = &self.fine_ring[short];
        // Four sums (x, x², xy, xz), each over eight lanes.
        let mut acc = [[0.0f32; 8]; 4];
        for ((xc, yc), zc) in x.chunks_exact(8).zip(y.chunks_exact(8)).zip(z.chunks_exact(8)) {
            for l in 0..8 {
                let (xv, yv, zv) = (xc[l], yc[l], zc[l]);
                acc[0][l] += xv;
                acc[1][l] += xv * xv;
                acc[2][l] += xv * yv;
                acc[3][l] += xv * zv;
            }
        }
        let [sx, sxx, sxy, sxz] = acc.map(|a| a.iter().sum::<f32>());
        let (sy, syy) = self.fine_sums[short];
        let (sz, szz) = self.fine_sums[self.ring_pos];
        self.fine_ring[self.ring_pos] = x;
        self.fine_sums[self.ring_pos] = (sx, sxx);
        self.ring_pos = (self.ring_pos + 1) % slots;
        let n = NF as f32;
        let vx = sxx - sx * sx / n;
        let corr = |sy: f32, syy: f32, sxy: f32, lag: usize| {
            let vy = syy - sy * sy / n;
            if vx <= 1e-6 || vy <= 1e-6 || self.hops < lag as u64 {
                0.0
            } else {
                ((sxy - sx * sy / n) / (vx * vy).sqrt()).clamp(-1.0, 1.0)
            }
        };
        (
            corr(sy, syy, sxy, STATIONARITY_LAG),
            corr(sz, szz, sxz, STATIONARITY_LAG_LONG),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_the_telephone_band() {
        assert_eq!((LO, HI, PERIODICITY_HI, NP), (3, 128, 112, 109));
    }
}
