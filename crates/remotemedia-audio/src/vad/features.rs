//! The speech detector's analysis front end: one feature vector per 10 ms hop.
//!
//! Each hop, the last ~32 ms of audio are windowed (Hann) and transformed. The
//! FFT length is the smallest `2^a·3^b·5^c` at or above 32 ms of samples, so
//! the bin spacing is about 31 Hz at every sample rate and the features mean
//! the same thing at 8 kHz and at 48 kHz. Only 100 Hz to 4 kHz is used (the
//! telephone band, present at every supported rate).
//!
//! A per-bin noise floor follows the smoothed power spectrum: it drops quickly
//! to dips and rises at most [`FLOOR_RISE_DB_PER_S`], so steady noise and hum
//! end up in the floor and speech stands above it. The features are then
//! relative to that floor, never absolute levels (the absolute gate is
//! applied by [`super::Vad`]):
//!
//! - band SNRs in 8 bands and their mean;
//! - harmonicity: the normalised periodicity of the floor-relative spectrum
//!   over pitch lags 2.5-14 ms (70-400 Hz), and the pitch jump between hops;
//! - spectral flux between hops;
//! - fine-spectrum stationarity: correlation of the floor-relative spectrum
//!   (100 Hz-2 kHz) with the ones 50 ms and 200 ms earlier — high for held musical notes,
//!   low for speech whose harmonics glide and whose formants move;
//! - slow averages (0.3 s and 1 s) of these and the modulation depth of the
//!   band SNR, which carry the syllable rhythm;
//! - the share of low-energy hops over the last second (speech pauses between
//!   syllables, music rarely does) and of decaying hops over 0.2 s (plucked
//!   notes decay steadily, syllables rise and fall).
//!
//! The vector handed out stacks these per-hop values with the ones from
//! 100 ms and 200 ms earlier, so the classifier sees their trajectory.
//!
//! This type is public so that the offline training script can dump features
//! (see `bench/vad/train.py`); the detector itself is [`super::Vad`].

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Values computed per hop.
const BASE_FEATURES: usize = 26;
/// How many hops back each stacked copy of the per-hop values comes from.
const CONTEXT_HOPS: [usize; 3] = [0, 10, 20];
/// Number of values in one feature vector: the per-hop values now, 100 ms
/// ago and 200 ms ago.
pub const NUM_FEATURES: usize = BASE_FEATURES * CONTEXT_HOPS.len();

/// How fast (dB per second) the noise floor may rise when the level goes up.
pub const FLOOR_RISE_DB_PER_S: f32 = 4.0;

/// Analysis hop in seconds (the features are defined per 10 ms hop).
const HOP_S: f64 = 0.010;
/// Analysis window in seconds (before rounding the FFT length up).
const WINDOW_S: f64 = 0.032;
/// Band edges in Hz for the band SNR features.
const BAND_EDGES_HZ: [f32; 9] = [100.0, 250.0, 400.0, 600.0, 900.0, 1300.0, 1900.0, 2800.0, 4000.0];
const NUM_BANDS: usize = BAND_EDGES_HZ.len() - 1;
/// Hops between the two spectra compared for short-term stationarity (50 ms).
const STATIONARITY_LAG: usize = 5;
/// Hops between the two spectra compared for long-term stationarity (200 ms).
const STATIONARITY_LAG_LONG: usize = 20;
/// Past per-hop vectors kept for stacking.
const CONTEXT_LEN: usize = 21;

/// One-pole smoothing coefficient for a time constant in seconds at a 10 ms hop.
fn ema_coeff(tau_s: f64) -> f32 {
    (1.0 - (-HOP_S / tau_s).exp()) as f32
}

/// Natural logarithm of a positive normal `x`, within about 3e-5 (bit trick + degree-5 polynomial fit of log2 on [1, 2)).
fn fast_ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let log2_m =
        ((((0.043_429_51 * m - 0.404_872_57) * m + 1.593_92) * m - 3.492_525_6) * m + 5.046_901_7) * m - 2.786_821_1;
    (exponent as f32 + log2_m) * std::f32::consts::LN_2
}

/// Smallest `2^a·3^b·5^c` that is at least `n`.
fn smooth_len(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r % p == 0 {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 1;
    }
}

/// A running mean (one-pole low-pass) of a feature.
#[derive(Debug, Clone, Copy)]
struct Ema {
    coeff: f32,
    value: f32,
}

impl Ema {
    fn new(tau_s: f64) -> Self {
        Self {
            coeff: ema_coeff(tau_s),
            value: 0.0,
        }
    }

    fn update(&mut self, x: f32) -> f32 {
        self.value += self.coeff * (x - self.value);
        self.value
    }
}

/// Slow averages kept across hops.
#[derive(Debug, Clone, Copy)]
struct Averages {
    harmonicity: Ema,
    pitch_jump: Ema,
    flux: Ema,
    stationarity: Ema,
    snr_mean: Ema,
    snr_square: Ema,
    voiced_long: Ema,
    stationarity_long: Ema,
    stationarity_200ms: Ema,
    snr_mean_long: Ema,
    snr_square_long: Ema,
    low_energy: Ema,
    decaying: Ema,
}

impl Averages {
    fn new() -> Self {
        Self {
            harmonicity: Ema::new(0.3),
            pitch_jump: Ema::new(0.3),
            flux: Ema::new(0.3),
            stationarity: Ema::new(0.3),
            snr_mean: Ema::new(0.3),
            snr_square: Ema::new(0.3),
            voiced_long: Ema::new(1.0),
            stationarity_long: Ema::new(1.0),
            stationarity_200ms: Ema::new(0.3),
            snr_mean_long: Ema::new(1.0),
            snr_square_long: Ema::new(1.0),
            low_energy: Ema::new(1.0),
            decaying: Ema::new(0.2),
        }
    }
}

/// Computes one [`NUM_FEATURES`]-long feature vector per 10 ms hop of mono audio.
///
/// State (window history, noise floor, slow averages) carries across calls;
/// [`FeatureExtractor::reset`] forgets it. No allocation after construction.
pub struct FeatureExtractor {
    fft_len: usize,
    window: Vec<f32>,
    history: Vec<f32>,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    time_buf: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch_fwd: Vec<Complex<f32>>,
    scratch_inv: Vec<Complex<f32>>,
    acf: Vec<f32>,
    prefix: Vec<f32>,
    envelope_half_width: usize,
    smoothed: Vec<f32>,
    floor: Vec<f32>,
    band_edges: [usize; NUM_BANDS + 1],
    fine_lo: usize,
    fine_hi: usize,
    periodicity_hi: usize,
    lag_min: usize,
    lag_max: usize,
    fine_ring: Vec<f32>,
    ring_pos: usize,
    context: Vec<[f32; BASE_FEATURES]>,
    context_pos: usize,
    prev_band_snr: [f32; NUM_BANDS],
    prev_lag: usize,
    prev_voiced: bool,
    floor_rise: f32,
    hops: u64,
    avg: Averages,
}

impl std::fmt::Debug for FeatureExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureExtractor")
            .field("fft_len", &self.fft_len)
            .field("hops", &self.hops)
            .finish_non_exhaustive()
    }
}

impl FeatureExtractor {
    /// Builds an extractor for `sample_rate` Hz (8 000 to 48 000; not checked here,
    /// [`super::VadConfig::validate`] does).
    pub fn new(sample_rate: u32) -> Self {
        let sr = f64::from(sample_rate);
        let fft_len = smooth_len((WINDOW_S * sr).round() as usize);
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(fft_len);
        let inv = planner.plan_fft_inverse(fft_len);
        let window = (0..fft_len)
            .map(|i| {
                let x = std::f64::consts::PI * (i as f64 + 0.5) / fft_len as f64;
                x.sin().powi(2) as f32
            })
            .collect();
        let bin = |hz: f32| (f64::from(hz) * fft_len as f64 / sr).round() as usize;
        let mut band_edges = [0usize; NUM_BANDS + 1];
        for (edge, &hz) in band_edges.iter_mut().zip(BAND_EDGES_HZ.iter()) {
            *edge = bin(hz);
        }
        for i in 1..band_edges.len() {
            band_edges[i] = band_edges[i].max(band_edges[i - 1] + 1);
        }
        let fine_lo = bin(100.0);
        let fine_hi = bin(2000.0);
        let fine_len = fine_hi - fine_lo;
        let hop_rate = 1.0 / HOP_S as f32;
        Self {
            fft_len,
            window,
            history: vec![0.0; fft_len],
            time_buf: fwd.make_input_vec(),
            spectrum: fwd.make_output_vec(),
            scratch_fwd: fwd.make_scratch_vec(),
            scratch_inv: inv.make_scratch_vec(),
            acf: inv.make_output_vec(),
            prefix: vec![0.0; fft_len / 2 + 2],
            envelope_half_width: bin(250.0),
            smoothed: vec![0.0; fft_len / 2 + 1],
            floor: vec![0.0; fft_len / 2 + 1],
            band_edges,
            fine_lo,
            fine_hi,
            periodicity_hi: bin(3500.0),
            lag_min: (sr / 400.0).round() as usize,
            lag_max: ((sr / 70.0).round() as usize).min(fft_len / 2 - 1),
            fine_ring: vec![0.0; fine_len * STATIONARITY_LAG_LONG],
            ring_pos: 0,
            context: vec![[0.0; BASE_FEATURES]; CONTEXT_LEN],
            context_pos: 0,
            prev_band_snr: [0.0; NUM_BANDS],
            prev_lag: 0,
            prev_voiced: false,
            floor_rise: 10f32.powf(FLOOR_RISE_DB_PER_S / hop_rate / 10.0),
            hops: 0,
            avg: Averages::new(),
            fwd,
            inv,
        }
    }

    /// FFT length in samples (the analysis window).
    pub fn fft_len(&self) -> usize {
        self.fft_len
    }

    /// Mean band SNR (dB above the noise floor) of the last hop analysed.
    pub fn last_snr_db(&self) -> f32 {
        self.prev_band_snr.iter().sum::<f32>() / NUM_BANDS as f32
    }

    /// Forgets all history: the next hop is analysed as the first of a stream.
    pub fn reset(&mut self) {
        self.history.fill(0.0);
        self.smoothed.fill(0.0);
        self.floor.fill(0.0);
        self.fine_ring.fill(0.0);
        self.ring_pos = 0;
        self.context.fill([0.0; BASE_FEATURES]);
        self.context_pos = 0;
        self.prev_band_snr = [0.0; NUM_BANDS];
        self.prev_lag = 0;
        self.prev_voiced = false;
        self.hops = 0;
        self.avg = Averages::new();
    }

    /// Analyses one hop of finite mono samples (about 10 ms; at most the FFT
    /// length) and writes its feature vector into `out`.
    pub fn push_hop(&mut self, hop: &[f32], out: &mut [f32; NUM_FEATURES]) {
        let n = hop.len().min(self.fft_len);
        self.history.copy_within(n.., 0);
        let start = self.fft_len - n;
        self.history[start..].copy_from_slice(&hop[hop.len() - n..]);
        for ((t, &x), &w) in self
            .time_buf
            .iter_mut()
            .zip(self.history.iter())
            .zip(self.window.iter())
        {
            *t = x * w;
        }
        // The buffers are sized by the plan, so the transform cannot fail.
        let _ = self
            .fwd
            .process_with_scratch(&mut self.time_buf, &mut self.spectrum, &mut self.scratch_fwd);
        self.update_floor();
        let band_snr = self.band_snr_db();
        let (harmonicity, lag) = self.periodicity();
        let (stationarity, stationarity_200ms) = self.stationarity();
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

        let mut base = [0.0f32; BASE_FEATURES];
        for (o, s) in base.iter_mut().zip(band_snr.iter()) {
            *o = s / 10.0;
        }
        let avg = &mut self.avg;
        let m = avg.snr_mean.update(mean_snr);
        let sq = avg.snr_square.update(mean_snr * mean_snr);
        base[8] = mean_snr / 10.0;
        base[9] = harmonicity;
        base[10] = pitch_jump;
        base[11] = flux / 10.0;
        base[12] = stationarity;
        base[13] = avg.harmonicity.update(harmonicity);
        base[14] = avg.pitch_jump.update(pitch_jump);
        base[15] = avg.flux.update(flux) / 10.0;
        base[16] = avg.stationarity.update(stationarity);
        base[17] = (sq - m * m).max(0.0).sqrt() / 10.0;
        let high = (band_snr[6] + band_snr[7]) * 0.5;
        let low = (band_snr[0] + band_snr[1] + band_snr[2] + band_snr[3]) * 0.25;
        base[18] = (high - low) / 10.0;
        base[19] = avg.voiced_long.update(if voiced { 1.0 } else { 0.0 });
        base[20] = avg.stationarity_long.update(stationarity);
        base[21] = stationarity_200ms;
        base[22] = avg.stationarity_200ms.update(stationarity_200ms);
        let long_mean = avg.snr_mean_long.value;
        base[23] = avg.low_energy.update(f32::from(u8::from(mean_snr < long_mean - 5.0)));
        let ml = avg.snr_mean_long.update(mean_snr);
        let sql = avg.snr_square_long.update(mean_snr * mean_snr);
        base[24] = (sql - ml * ml).max(0.0).sqrt() / 10.0;
        base[25] = avg.decaying.update(f32::from(u8::from(mean_snr < prev_mean_snr - 0.2)));

        self.context[self.context_pos] = base;
        for (c, back) in CONTEXT_HOPS.iter().enumerate() {
            let slot = (self.context_pos + CONTEXT_LEN - back) % CONTEXT_LEN;
            out[c * BASE_FEATURES..(c + 1) * BASE_FEATURES].copy_from_slice(&self.context[slot]);
        }
        self.context_pos = (self.context_pos + 1) % CONTEXT_LEN;
    }

    /// Smooths the power spectrum over time and updates the per-bin noise floor.
    fn update_floor(&mut self) {
        let hi = self.band_edges[NUM_BANDS];
        let first = self.hops == 0;
        for k in self.band_edges[0]..hi {
            let p = self.spectrum[k].norm_sqr() + 1e-12;
            let s = if first {
                p
            } else {
                self.smoothed[k] + 0.4 * (p - self.smoothed[k])
            };
            self.smoothed[k] = s;
            let f = self.floor[k];
            self.floor[k] = if first {
                s
            } else if s < f {
                f + 0.2 * (s - f)
            } else {
                (f * self.floor_rise).min(s)
            };
        }
    }

    /// Band SNRs in dB (smoothed power over floor), clamped to 0..50 dB.
    fn band_snr_db(&self) -> [f32; NUM_BANDS] {
        let mut out = [0.0; NUM_BANDS];
        for (b, o) in out.iter_mut().enumerate() {
            let range = self.band_edges[b]..self.band_edges[b + 1];
            let s: f32 = self.smoothed[range.clone()].iter().sum();
            let f: f32 = self.floor[range].iter().sum();
            *o = (10.0 * (s / f).log10()).clamp(0.0, 50.0);
        }
        out
    }

    /// Periodicity of the log floor-relative spectrum with its 500 Hz moving
    /// average removed (leaving the harmonic ripple): the largest cosine match
    /// over pitch lags, normalised by the ripple's spread, and its lag in samples.
    fn periodicity(&mut self) -> (f32, usize) {
        let lo = self.band_edges[0];
        let hi = self.periodicity_hi;
        let hw = self.envelope_half_width;
        // prefix[i] = sum of the log ratio over bins lo..lo+i.
        self.prefix[0] = 0.0;
        for k in lo..hi {
            let v = fast_ln(1.0 + self.spectrum[k].norm_sqr() / self.floor[k]);
            self.prefix[k - lo + 1] = self.prefix[k - lo] + v;
        }
        let mut spread = 0.0;
        for (k, c) in self.spectrum.iter_mut().enumerate() {
            let v = if k >= lo && k < hi {
                let i = k - lo;
                let a = i.saturating_sub(hw);
                let b = (i + hw + 1).min(hi - lo);
                let local_mean = (self.prefix[b] - self.prefix[a]) / (b - a) as f32;
                self.prefix[i + 1] - self.prefix[i] - local_mean
            } else {
                0.0
            };
            spread += v.abs();
            *c = Complex::new(v, 0.0);
        }
        let _ = self
            .inv
            .process_with_scratch(&mut self.spectrum, &mut self.acf, &mut self.scratch_inv);
        // The inverse transform sums each bin twice (it and its mirror), so
        // `2·spread` bounds every lag: a perfectly regular comb comes near 0.8.
        let norm = 2.0 * spread;
        if norm <= 1e-6 {
            return (0.0, 0);
        }
        let mut best = f32::MIN;
        let mut lag = 0;
        for (l, &v) in self.acf[self.lag_min..=self.lag_max].iter().enumerate() {
            if v > best {
                best = v;
                lag = l + self.lag_min;
            }
        }
        ((best / norm).clamp(0.0, 1.0), lag)
    }

    /// Correlations between the fine floor-relative spectrum now and 50 ms
    /// and 200 ms ago.
    fn stationarity(&mut self) -> (f32, f32) {
        let len = self.fine_hi - self.fine_lo;
        let slots = STATIONARITY_LAG_LONG;
        let now = self.ring_pos * len;
        let short = ((self.ring_pos + slots - STATIONARITY_LAG) % slots) * len;
        // The slot about to be overwritten holds the spectrum from 200 ms ago.
        let mut s = [0.0f32; 5];
        let mut long = [0.0f32; 3];
        for (i, k) in (self.fine_lo..self.fine_hi).enumerate() {
            let x = fast_ln(1.0 + self.smoothed[k] / self.floor[k]);
            let y = self.fine_ring[short + i];
            let z = self.fine_ring[now + i];
            self.fine_ring[now + i] = x;
            s[0] += x;
            s[1] += x * x;
            s[2] += y;
            s[3] += y * y;
            s[4] += x * y;
            long[0] += z;
            long[1] += z * z;
            long[2] += x * z;
        }
        self.ring_pos = (self.ring_pos + 1) % slots;
        let n = len as f32;
        let corr = |sy: f32, syy: f32, sxy: f32, lag: usize| {
            let vx = s[1] - s[0] * s[0] / n;
            let vy = syy - sy * sy / n;
            if vx <= 1e-6 || vy <= 1e-6 || self.hops < lag as u64 {
                0.0
            } else {
                ((sxy - s[0] * sy / n) / (vx * vy).sqrt()).clamp(-1.0, 1.0)
            }
        };
        (
            corr(s[2], s[3], s[4], STATIONARITY_LAG),
            corr(long[0], long[1], long[2], STATIONARITY_LAG_LONG),
        )
    }
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

    #[test]
    fn fft_length_is_smooth_and_about_32_ms() {
        for sr in [8_000u32, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000] {
            let fe = FeatureExtractor::new(sr);
            let n = fe.fft_len();
            assert!(n as f64 >= 0.032 * f64::from(sr) - 0.5, "{sr}: {n}");
            assert!((n as f64) < 0.036 * f64::from(sr), "{sr}: {n}");
            assert_eq!(smooth_len(n), n);
        }
    }

    #[test]
    fn harmonic_signal_is_periodic_and_noise_is_not() {
        let sr = 16_000;
        let mut fe = FeatureExtractor::new(sr);
        let mut out = [0.0; NUM_FEATURES];
        let mut state = 1u32;
        let mut noise = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for _ in 0..100 {
            let hop: Vec<f32> = (0..160).map(|_| 0.01 * noise()).collect();
            fe.push_hop(&hop, &mut out);
        }
        assert!(out[9] < 0.3, "noise harmonicity {}", out[9]);
        let mut t = 0usize;
        for _ in 0..10 {
            let hop: Vec<f32> = (0..160)
                .map(|_| {
                    t += 1;
                    let ph = 2.0 * std::f32::consts::PI * 150.0 * t as f32 / sr as f32;
                    (1..8).map(|k| (ph * k as f32).sin() / k as f32).sum::<f32>() * 0.1 + 0.01 * noise()
                })
                .collect();
            fe.push_hop(&hop, &mut out);
        }
        assert!(out[9] > 0.4, "harmonic harmonicity {}", out[9]);
        assert!(out[8] > 1.0, "harmonic SNR {}", out[8]);
    }
}
