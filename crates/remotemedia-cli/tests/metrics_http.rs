//! `remotemedia loadtest --metrics-bind`: a real HTTP scrape of /metrics on
//! 127.0.0.1 while the load runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn scrape_during_a_loadtest() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remotemedia"))
        .args([
            "loadtest",
            "--streams",
            "4",
            "--seconds",
            "4",
            "--metrics-bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no metrics address printed");
        if let Some(url) = line.trim().strip_prefix("metrics: http://") {
            break url.trim_end_matches("/metrics").to_owned();
        }
    };
    // Until the sessions have opened and processed a few chunks (bounded).
    let mut text = String::new();
    for _ in 0..40 {
        text = get(&addr, "/metrics");
        if value(&text, "remotemedia_sessions_open") == Some(4.0)
            && value(&text, "remotemedia_chunks_in_total").unwrap_or(0.0) > 0.0
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"),
        "{text}"
    );
    assert!(text.contains("application/openmetrics-text"), "{text}");
    assert_eq!(value(&text, "remotemedia_sessions_open"), Some(4.0), "{text}");
    assert!(value(&text, "remotemedia_chunks_in_total").unwrap() > 0.0, "{text}");
    let calls = value(
        &text,
        "remotemedia_node_calls_total{pipeline=\"loadtest\",node=\"vad\"}",
    )
    .unwrap();
    assert!(calls > 0.0, "{text}");
    let count = value(
        &text,
        "remotemedia_node_call_duration_seconds_count{pipeline=\"loadtest\",node=\"vad\"}",
    );
    assert_eq!(count, Some(calls), "{text}");
    let inf = value(
        &text,
        "remotemedia_node_call_duration_seconds_bucket{le=\"+Inf\",pipeline=\"loadtest\",node=\"vad\"}",
    );
    assert_eq!(inf, Some(calls), "{text}");
    assert_eq!(
        value(
            &text,
            "remotemedia_node_breaker_state{pipeline=\"loadtest\",node=\"vad\"}"
        ),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "remotemedia_node_errors_total{pipeline=\"loadtest\",node=\"vad\",class=\"fatal\"}"
        ),
        Some(0.0),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    assert!(get(&addr, "/other").contains(" 404 "));
    let status = child.wait().unwrap();
    assert!(status.success());
}
