//! The live metrics of every session of the process ([`crate::executor::live_view`])
//! in the Prometheus / OpenMetrics text format, written by the
//! `prometheus-client` crate.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `remotemedia_sessions_open` | gauge | |
//! | `remotemedia_chunks_in_total`, `_out_total`, `_dropped_total` | counter | |
//! | `remotemedia_node_calls_total` | counter | `pipeline`, `node` |
//! | `remotemedia_node_errors_total` | counter | `pipeline`, `node`, `class` (`transient`/`fatal`) |
//! | `remotemedia_node_retries_total` | counter | `pipeline`, `node` |
//! | `remotemedia_node_call_duration_seconds` | histogram | `pipeline`, `node` |
//! | `remotemedia_node_breaker_state` | gauge: 0 closed, 1 open, 2 half-open | `pipeline`, `node` |
//!
//! Counters include ended sessions (they only grow); the breaker gauge
//! covers the pipelines that have running sessions. `pipeline` is the
//! manifest's `metadata.name` (empty when it has none). Histogram buckets
//! are counted from the engine's own call-time histograms, so they are
//! exact within its bucket resolution (6.25 %).

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::executor::LiveView;

/// Upper bounds of the call-time histogram buckets, in seconds (10 µs to 5 s).
pub const CALL_BUCKETS: [f64; 12] = [
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
];

/// The content type of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `view` as OpenMetrics text (ends with `# EOF`).
pub fn encode(view: LiveView) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(View(view)));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("writing to a String cannot fail");
    text
}

#[derive(Debug)]
struct View(LiveView);

impl Collector for View {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let v = &self.0;
        let gauge = ConstGauge::new(i64::try_from(v.sessions_open).unwrap_or(i64::MAX));
        gauge.encode(encoder.encode_descriptor(
            "remotemedia_sessions_open",
            "Sessions running now.",
            None,
            gauge.metric_type(),
        )?)?;
        for (name, help, value) in [
            (
                "remotemedia_chunks_in",
                "Chunks pushed into sessions.",
                v.totals.chunks_in,
            ),
            (
                "remotemedia_chunks_out",
                "Outputs sessions delivered.",
                v.totals.chunks_out,
            ),
            (
                "remotemedia_chunks_dropped",
                "Chunks dropped by drop-oldest sends (input queue full).",
                v.totals.dropped,
            ),
        ] {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
        }
        let labels = |(pipeline, node): &(String, String)| vec![("pipeline", pipeline.clone()), ("node", node.clone())];

        let mut calls = encoder.encode_descriptor(
            "remotemedia_node_calls",
            "Node executions (attempts and flushes).",
            None,
            MetricType::Counter,
        )?;
        for (key, m) in &v.totals.nodes {
            ConstCounter::new(m.calls).encode(calls.encode_family(&labels(key))?)?;
        }
        let mut errors = encoder.encode_descriptor(
            "remotemedia_node_errors",
            "Failed node attempts, by error class.",
            None,
            MetricType::Counter,
        )?;
        for (key, m) in &v.totals.nodes {
            for (class, n) in [
                ("transient", m.transient_errors),
                ("fatal", m.errors.saturating_sub(m.transient_errors)),
            ] {
                let mut l = labels(key);
                l.push(("class", class.to_owned()));
                ConstCounter::new(n).encode(errors.encode_family(&l)?)?;
            }
        }
        let mut retries = encoder.encode_descriptor(
            "remotemedia_node_retries",
            "Node attempts that were retries.",
            None,
            MetricType::Counter,
        )?;
        for (key, m) in &v.totals.nodes {
            ConstCounter::new(m.retries).encode(retries.encode_family(&labels(key))?)?;
        }
        let mut durations = encoder.encode_descriptor(
            "remotemedia_node_call_duration_seconds",
            "Node call time.",
            None,
            MetricType::Histogram,
        )?;
        for (key, m) in &v.totals.nodes {
            let h = m.histogram();
            let mut below = 0;
            let mut buckets: Vec<(f64, u64)> = CALL_BUCKETS
                .iter()
                .map(|&le| {
                    let cumulative = h.count_at_most((le * 1e9) as u64);
                    let bucket = (le, cumulative - below);
                    below = cumulative;
                    bucket
                })
                .collect();
            buckets.push((f64::INFINITY, h.len() - below));
            durations
                .encode_family(&labels(key))?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    m.total_ns() as f64 / 1e9,
                    h.len(),
                    &buckets,
                    None,
                )?;
        }
        let mut breakers = encoder.encode_descriptor(
            "remotemedia_node_breaker_state",
            "Circuit breaker: 0 closed, 1 open, 2 half-open.",
            None,
            MetricType::Gauge,
        )?;
        for (key, state) in &v.breakers {
            ConstGauge::new(i64::from(state.code())).encode(breakers.encode_family(&labels(key))?)?;
        }
        Ok(())
    }
}
