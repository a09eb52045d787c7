//! Manifests written for the earlier runtime's `remotemedia.v1` clients load
//! unchanged: params as JSON text, `created_at`, `is_streaming`,
//! `capabilities`, `host` and the `RUNTIME_HINT_*` names.

use remotemedia_core::{Engine, Manifest, RuntimeData, RuntimeHint};
use serde_json::json;

const OLDER: &str = r#"{
    "version": "v1",
    "metadata": {"name": "calc", "description": "", "created_at": "2024-05-01T12:00:00Z"},
    "nodes": [
        {"id": "c", "node_type": "CalculatorNode", "params": "{\"operation\": \"multiply\", \"value\": 3}",
         "is_streaming": false, "host": "", "runtime_hint": "RUNTIME_HINT_CPYTHON_WASM",
         "capabilities": {"gpu": {"type": "cuda", "min_memory_gb": 2.0, "required": false},
                          "cpu": {"cores": 2, "arch": "x86_64"}, "memory_gb": 1.5}},
        {"id": "e", "node_type": "Echo", "params": "", "is_streaming": true, "runtime_hint": "RUNTIME_HINT_AUTO"}
    ],
    "connections": [{"from": "c", "to": "e"}]
}"#;

#[test]
fn an_older_manifest_runs_and_names_what_it_ignores() {
    let m = Manifest::from_json(OLDER).unwrap();
    assert_eq!(m.nodes[0].runtime_hint, RuntimeHint::Python);
    assert_eq!(m.nodes[1].runtime_hint, RuntimeHint::Auto);
    let notes = m.ignored_fields().join("\n");
    for field in [
        "metadata.created_at",
        "nodes[0].is_streaming",
        "nodes[0].capabilities",
        "nodes[0].host",
        "nodes[1].is_streaming",
    ] {
        assert!(notes.contains(field), "no note for {field} in:\n{notes}");
    }
    // Python was asked for; both types are native only, so auto is what runs.
    let mut m = m;
    m.nodes[0].runtime_hint = RuntimeHint::Auto;
    let engine = Engine::default();
    let pipeline = engine.compile(m).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let out = rt
        .block_on(engine.run_batch(
            &pipeline,
            [RuntimeData::Json(json!(2)), RuntimeData::Json(json!({"value": 0.5}))],
        ))
        .unwrap();
    let values: Vec<_> = out.into_iter().map(|o| o.data).collect();
    assert_eq!(
        values,
        vec![
            RuntimeData::Json(json!({"input": 6, "counter": 1, "node": "Echo"})),
            RuntimeData::Json(json!({"input": 1.5, "counter": 2, "node": "Echo"})),
        ]
    );
}

#[test]
fn params_text_that_is_not_a_json_object_is_named() {
    let text = OLDER.replace(r#""params": """#, r#""params": "[1, 2]""#);
    let e = Manifest::from_json(&text).unwrap_err().to_string();
    assert!(
        e.contains("nodes[1].params") && e.contains("must hold a JSON object"),
        "{e}"
    );
}
