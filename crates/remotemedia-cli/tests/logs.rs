//! The command's log: engine events on stderr, filtered by `RUST_LOG`, as
//! text or JSON lines.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// `remotemedia run` of a node that fails once (transient) and is retried,
/// then a node that panics once and is skipped.
fn run_faulty(rust_log: Option<&str>, extra: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("remotemedia-logs-{}-{}", std::process::id(), extra.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("faulty.json");
    std::fs::write(
        &manifest,
        r#"{"version": "v1", "nodes": [
            {"id": "flaky", "node_type": "FaultInjectionNode", "params": {"fail_times": 1, "error_class": "transient"},
             "retry": {"max_retries": 2, "initial_delay_ms": 3}},
            {"id": "crashy", "node_type": "FaultInjectionNode", "params": {"panic_times": 1}, "on_failure": "skip"}],
          "connections": [{"from": "flaky", "to": "crashy"}]}"#,
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_remotemedia"));
    cmd.arg("run")
        .arg(&manifest)
        .arg("--input")
        .arg(examples().join("speech_48k.wav"))
        .args(extra)
        .env_remove("RUST_LOG");
    if let Some(spec) = rust_log {
        cmd.env("RUST_LOG", spec);
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn json_lines_carry_the_events_and_their_fields() {
    let out = run_faulty(Some("info"), &["--log-format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let find = |message: &str| {
        events
            .iter()
            .find(|e| e["fields"]["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} in {events:?}"))
    };
    assert_eq!(find("session opened")["level"], "INFO");
    let retry = find("retrying after a transient error");
    assert_eq!(retry["level"], "WARN");
    assert_eq!(retry["fields"]["node"], "flaky");
    assert_eq!(retry["fields"]["attempt"], 2);
    assert_eq!(retry["fields"]["delay_ms"], 3);
    let panic = find("caught a panic; the node was reset");
    assert_eq!(panic["level"], "ERROR");
    assert_eq!(panic["fields"]["node"], "crashy");
    let failed = find("node failed");
    assert_eq!(failed["fields"]["node"], "crashy");
    assert_eq!(failed["fields"]["class"], "fatal");
    let closed = find("session closed");
    assert!(closed["fields"]["chunks_in"].as_u64().unwrap() > 0, "{closed}");
    assert_eq!(closed["span"]["name"], "session");
}

#[test]
fn quiet_by_default_and_rust_log_filters() {
    let out = run_faulty(None, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let text = stderr(&run_faulty(Some("warn"), &[]));
    assert!(text.contains("retrying after a transient error"), "{text}");
    assert!(!text.contains("session opened"), "{text}");
    let text = stderr(&run_faulty(Some("error"), &[]));
    assert!(!text.contains("retrying"), "{text}");
    assert!(text.contains("caught a panic"), "{text}");
}

#[test]
fn a_bad_rust_log_is_refused_by_name() {
    let out = run_faulty(Some("remotemedia_core=loud"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("RUST_LOG=\"remotemedia_core=loud\""),
        "{}",
        stderr(&out)
    );
}
