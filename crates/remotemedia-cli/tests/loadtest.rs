//! `remotemedia loadtest` end to end: streams lose nothing and leak nothing; arguments are
//! checked.

mod common;

use common::*;

#[test]
fn a_small_load_test_loses_nothing() {
    let o = run(&["loadtest", "--streams", "16", "--seconds", "1", "--clocks", "4"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let last = text(&o.stdout).lines().last().unwrap().to_owned();
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(v["streams"], 16);
    assert_eq!(v["chunks_in"], 16 * 50);
    assert_eq!(v["chunks_out"], v["chunks_in"]);
    assert_eq!(v["dropped"], 0);
    assert_eq!(v["errors"], 0);
    for key in ["p50_ms", "p99_ms", "max_ms", "behind", "peak_rss_mb", "seconds"] {
        assert!(!v[key].is_null(), "{key} missing from {last}");
    }
}

#[test]
fn an_inline_load_test_loses_nothing() {
    let o = run(&[
        "loadtest",
        "--streams",
        "12",
        "--seconds",
        "0.5",
        "--clocks",
        "3",
        "--inline",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(v["chunks_in"], 12 * 25);
    assert_eq!(v["chunks_out"], v["chunks_in"]);
    assert_eq!((v["dropped"].as_u64(), v["errors"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn load_test_arguments_are_checked() {
    let o = run(&["loadtest", "--streams", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["loadtest", "--seconds=0", "--streams", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--seconds must be in (0, 86400]"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn repeated_load_rounds_leak_nothing() {
    let o = run(&["loadtest", "--streams", "8", "--seconds", "0.4", "--rounds", "6"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(v["dropped"], 0);
    assert_eq!(v["chunks_in"], 8 * 6 * 20);
    let live: Vec<i64> = v["live_heap_bytes_after_round"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(live.len(), 6);
    // After warm-up, every round leaves the heap where the second left it
    // (within 64 KiB of allocator and runtime noise).
    for (round, bytes) in live.iter().enumerate().skip(2) {
        assert!(
            (bytes - live[1]).abs() < 64 * 1024,
            "round {round}: {bytes} live bytes vs {} after round 1",
            live[1]
        );
    }
}
