//! Live metrics: a running session's figures at any time, and the scrape
//! of every session of the process in the Prometheus text format. (One test:
//! the figures are process-wide, and tests of one binary share the process.)

use std::time::Duration;

use remotemedia_core::executor::live_view;
use remotemedia_core::metrics::prometheus;
use remotemedia_core::{Engine, Manifest, RuntimeData, SessionConfig};
use serde_json::json;

#[test]
fn snapshots_while_running_and_scrapes_that_only_grow() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let engine = Engine::default();
    let manifest = Manifest::from_json(
        r#"{"version": "v1", "metadata": {"name": "live-test"},
            "nodes": [{"id": "double", "node_type": "MultiplyNode", "params": {"factor": 2}},
                      {"id": "flaky", "node_type": "FaultInjectionNode", "params": {"fail_times": 1},
                       "retry": {"max_retries": 1, "initial_delay_ms": 1}}],
            "connections": [{"from": "double", "to": "flaky"}]}"#,
    )
    .unwrap();
    let pipeline = engine.compile(manifest).unwrap();
    let session = rt
        .block_on(async { engine.open_session(&pipeline, SessionConfig::default()) })
        .unwrap();
    let (sender, mut receiver) = session.split();
    for i in 0..5 {
        rt.block_on(sender.send(RuntimeData::Json(json!(i)))).unwrap();
        rt.block_on(receiver.recv()).unwrap().unwrap();
    }
    // Open, after 5 chunks: the snapshot has them all.
    let m = receiver.metrics_snapshot().expect("published");
    assert_eq!(m.pipeline.inputs, 5);
    assert_eq!(m.nodes[0].calls, 5);
    assert_eq!((m.nodes[1].calls, m.nodes[1].errors, m.nodes[1].retries), (6, 1, 1));

    let text = prometheus::encode(live_view(Duration::from_secs(2)));
    let series = |name: &str, node: &str| format!("{name}{{pipeline=\"live-test\",node=\"{node}\"}}");
    let value = |text: &str, series: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    };
    assert_eq!(
        value(&text, &series("remotemedia_node_calls_total", "double")),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &series("remotemedia_node_retries_total", "flaky")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "remotemedia_node_errors_total{pipeline=\"live-test\",node=\"flaky\",class=\"transient\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &series("remotemedia_node_breaker_state", "flaky")),
        Some(0.0),
        "{text}"
    );
    assert!(value(&text, "remotemedia_sessions_open").unwrap() >= 1.0, "{text}");

    // Closed: the counters keep what it measured; its breakers leave the view.
    drop(sender);
    while rt.block_on(receiver.recv()).is_some() {}
    // The final figures (5 chunks and the flush), at once.
    let last = receiver.metrics_snapshot().expect("final figures");
    assert_eq!(last.nodes[0].calls, 6);
    let text = prometheus::encode(live_view(Duration::from_secs(2)));
    assert_eq!(
        value(&text, &series("remotemedia_node_calls_total", "double")),
        Some(6.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &series("remotemedia_node_breaker_state", "flaky")),
        None,
        "{text}"
    );
}
