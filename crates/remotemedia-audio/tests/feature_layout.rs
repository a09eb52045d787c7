//! The speech detector's feature layout, as `bench/vad/train.py` reads it: the checked-in
//! `bench/vad/feature_layout.json` must be what the extractor defines. After changing the
//! layout, rewrite the file with
//! `REMOTEMEDIA_WRITE_LAYOUT=1 cargo test -p remotemedia-audio --test feature_layout`.

use std::path::PathBuf;

use remotemedia_audio::vad::features::layout::{CONTEXT_MS, Feature};
use remotemedia_audio::vad::features::{ANALYSIS_RATE, FeatureExtractor, HOP_MS, NUM_FEATURES};
use serde_json::json;

fn layout_json() -> String {
    let per_hop: Vec<String> = Feature::ALL.iter().map(|f| f.name()).collect();
    let vector: Vec<String> = CONTEXT_MS
        .iter()
        .flat_map(|ms| per_hop.iter().map(move |name| format!("{name}@-{ms}ms")))
        .collect();
    let layout = json!({
        "analysis_rate": ANALYSIS_RATE,
        "hop_ms": HOP_MS,
        "per_hop": per_hop,
        "context_ms": CONTEXT_MS,
        "num_features": NUM_FEATURES,
        "vector": vector,
    });
    serde_json::to_string_pretty(&layout).unwrap() + "\n"
}

#[test]
fn checked_in_layout_matches_the_extractor() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/vad/feature_layout.json");
    let expected = layout_json();
    if std::env::var_os("REMOTEMEDIA_WRITE_LAYOUT").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        found == expected,
        "{} is out of date: rewrite it with REMOTEMEDIA_WRITE_LAYOUT=1 cargo test -p remotemedia-audio \
         --test feature_layout",
        path.display()
    );
}

#[test]
fn the_extractor_fills_vectors_of_the_layout_length() {
    let mut fe = FeatureExtractor::new(16_000);
    let mut seen = 0;
    fe.push(&vec![0.01f32; 16_000], |v, _| {
        assert_eq!(v.len(), NUM_FEATURES);
        seen += 1;
    });
    assert!(seen > 0);
}
