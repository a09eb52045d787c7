//! Every way a manifest can be refused, and the messages that say why.

use remotemedia_core::{Engine, Manifest, ManifestError, Problem, RuntimeHint};
use serde_json::{Value, json};

fn compile(v: Value) -> Result<(), ManifestError> {
    let manifest = Manifest::from_value(v)?;
    Engine::default().compile(manifest).map(drop)
}

fn problems(v: Value) -> Vec<Problem> {
    compile(v).expect_err("manifest should be refused").problems()
}

fn one_problem(v: Value) -> Problem {
    let mut p = problems(v);
    assert_eq!(p.len(), 1, "expected one problem, got {p:?}");
    p.remove(0)
}

fn chain(nodes: Value) -> Value {
    json!({"version": "v1", "nodes": nodes})
}

#[test]
fn accepts_a_valid_chain() {
    let m = json!({
        "version": "v1",
        "metadata": {"name": "math", "description": "doubles then adds"},
        "nodes": [
            {"id": "a", "node_type": "MultiplyNode", "params": {"factor": 3}},
            {"id": "b", "node_type": "AddNode", "params": {"addend": 1.5}, "runtime_hint": "rust_native",
             "retry": {"max_retries": 2}, "timeout_ms": 50, "on_failure": "skip",
             "circuit_breaker": {"failure_threshold": 3}}
        ],
        "connections": [{"from": "a", "to": "b"}]
    });
    compile(m).unwrap();
}

#[test]
fn missing_version() {
    let p = one_problem(json!({"nodes": []}));
    assert_eq!(p.to_string(), "version: missing; expected \"v1\"");
}

#[test]
fn unknown_version() {
    let p = one_problem(json!({"version": "v2", "nodes": []}));
    assert_eq!(
        p.to_string(),
        "version: unsupported manifest version \"v2\"; this engine reads \"v1\""
    );
    let p = one_problem(json!({"version": 1, "nodes": []}));
    assert!(p.message.contains("unsupported manifest version 1"), "{p}");
}

#[test]
fn not_an_object() {
    let p = one_problem(json!([1, 2]));
    assert_eq!(p.message, "a manifest must be an object, got an array");
}

#[test]
fn syntax_errors_name_the_format_and_position() {
    let e = Manifest::from_json("{\"version\": \"v1\", ").unwrap_err();
    assert!(e.to_string().starts_with("JSON syntax error:"), "{e}");
    assert!(e.to_string().contains("line 1"), "{e}");
    let e = Manifest::from_yaml("version: v1\nnodes: [\n").unwrap_err();
    assert!(e.to_string().starts_with("YAML syntax error:"), "{e}");
}

#[test]
fn no_nodes() {
    let p = one_problem(chain(json!([])));
    assert_eq!(p.to_string(), "nodes: a pipeline needs at least one node");
}

#[test]
fn empty_and_duplicate_ids() {
    let p = problems(chain(json!([
        {"id": "", "node_type": "PassThroughNode"},
        {"id": "x", "node_type": "PassThroughNode"},
        {"id": "x", "node_type": "PassThroughNode"}
    ])));
    let text: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "nodes[0].id: node id must not be empty",
            "nodes[2].id: duplicate node id (first used by nodes[1]) (node \"x\")"
        ]
    );
}

#[test]
fn unknown_node_type_lists_close_matches() {
    let p = one_problem(chain(json!([{"id": "m", "node_type": "MultiplyNod"}])));
    assert_eq!(p.path, "nodes[0].node_type");
    assert_eq!(p.node_id.as_deref(), Some("m"));
    assert_eq!(
        p.message,
        "unknown node type \"MultiplyNod\"; did you mean MultiplyNode?"
    );
    let p = one_problem(chain(json!([{"id": "m", "node_type": "Whisper"}])));
    assert!(p.message.ends_with("see `remotemedia nodes` for the list"), "{p}");
}

#[test]
fn connection_to_missing_node() {
    let m = json!({"version": "v1",
        "nodes": [{"id": "a", "node_type": "PassThroughNode"}],
        "connections": [{"from": "a", "to": "b"}, {"from": "c", "to": "a"}]});
    let text: Vec<String> = problems(m).iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "connections[0].to: unknown node \"b\"",
            "connections[1].from: unknown node \"c\""
        ]
    );
}

#[test]
fn duplicate_connection() {
    let m = json!({"version": "v1",
        "nodes": [{"id": "a", "node_type": "PassThroughNode"}, {"id": "b", "node_type": "PassThroughNode"}],
        "connections": [{"from": "a", "to": "b"}, {"from": "a", "to": "b"}]});
    assert_eq!(
        one_problem(m).to_string(),
        "connections[1]: duplicate connection a -> b"
    );
}

#[test]
fn params_of_the_wrong_type() {
    let p = one_problem(chain(json!([
        {"id": "ok", "node_type": "AddNode"},
        {"id": "m", "node_type": "MultiplyNode", "params": {"factor": "two"}}
    ])));
    assert_eq!(p.path, "nodes[1].params.factor");
    assert_eq!(p.node_id.as_deref(), Some("m"));
    assert!(
        p.message.starts_with("invalid type: string \"two\", expected f64"),
        "{p}"
    );
}

#[test]
fn unknown_param() {
    let p = one_problem(chain(
        json!([{"id": "m", "node_type": "MultiplyNode", "params": {"factr": 2}}]),
    ));
    assert_eq!(p.path, "nodes[0].params.factr");
    assert!(p.message.starts_with("unknown field `factr`, expected `factor`"), "{p}");
}

#[test]
fn non_finite_yaml_number_is_refused() {
    // JSON has no NaN: YAML's `.nan` is refused where it is read, rather than
    // reaching the params as null ("not set").
    let e = Manifest::from_yaml(
        "version: v1\nnodes:\n  - id: m\n    node_type: MultiplyNode\n    params: {factor: .nan}\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "nodes[0].params.factor: .nan is not a finite number; manifests take finite numbers only"
    );
}

#[test]
fn unknown_fields_and_bad_types_in_the_node() {
    let p = one_problem(chain(json!([{"id": "m", "node_type": "AddNode", "paramz": {}}])));
    assert_eq!(p.path, "nodes[0].paramz");
    assert_eq!(p.node_id.as_deref(), Some("m"));
    assert!(p.message.contains("unknown field `paramz`"), "{p}");
    let p = one_problem(chain(json!([{"id": "m", "node_type": "AddNode", "timeout_ms": -5}])));
    assert_eq!(p.path, "nodes[0].timeout_ms");
    let p = one_problem(chain(
        json!([{"id": "m", "node_type": "AddNode", "runtime_hint": "gpu"}]),
    ));
    assert_eq!(p.path, "nodes[0].runtime_hint");
    assert!(p.message.contains("unknown variant `gpu`"), "{p}");
}

#[test]
fn resilience_settings_are_validated() {
    let text: Vec<String> = problems(chain(json!([{"id": "m", "node_type": "AddNode",
        "retry": {"multiplier": 0.5, "initial_delay_ms": 100, "max_delay_ms": 10},
        "timeout_ms": 0, "circuit_breaker": {"failure_threshold": 0}}])))
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        text,
        [
            "nodes[0].retry.multiplier: must be a number from 1 to 1000, got 0.5 (node \"m\")",
            "nodes[0].retry.max_delay_ms: must not be below initial_delay_ms (node \"m\")",
            "nodes[0].timeout_ms: must be positive (node \"m\")",
            "nodes[0].circuit_breaker.failure_threshold: must be at least 1 (node \"m\")",
        ]
    );
}

#[test]
fn runtime_hint_python_needs_a_python_implementation() {
    let p = one_problem(chain(
        json!([{"id": "m", "node_type": "AddNode", "runtime_hint": "cpython"}]),
    ));
    assert_eq!(p.path, "nodes[0].runtime_hint");
    assert!(p.message.contains("AddNode has implementations for [rust] only"), "{p}");
}

#[test]
fn older_runtime_hint_spellings() {
    for (spelling, hint) in [
        ("auto", RuntimeHint::Auto),
        ("rust", RuntimeHint::Rust),
        ("rust_native", RuntimeHint::Rust),
        ("python", RuntimeHint::Python),
        ("rust_python", RuntimeHint::Python),
        ("cpython", RuntimeHint::Python),
    ] {
        let m = Manifest::from_value(chain(
            json!([{"id": "m", "node_type": "AddNode", "runtime_hint": spelling}]),
        ))
        .unwrap();
        assert_eq!(m.nodes[0].runtime_hint, hint, "{spelling}");
    }
}

#[test]
fn cycles_are_named_in_order() {
    let m = json!({"version": "v1",
        "nodes": [{"id": "a", "node_type": "PassThroughNode"}, {"id": "b", "node_type": "PassThroughNode"}],
        "connections": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]});
    assert_eq!(compile(m).unwrap_err().to_string(), "cycle: a -> b -> a");
    let m = json!({"version": "v1",
        "nodes": [{"id": "solo", "node_type": "PassThroughNode"}],
        "connections": [{"from": "solo", "to": "solo"}]});
    assert_eq!(compile(m).unwrap_err().to_string(), "cycle: solo -> solo");
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems(json!({"version": "v1",
        "nodes": [{"id": "a", "node_type": "Nope"}, {"id": "a", "node_type": "AddNode", "params": {"addend": []}}],
        "connections": [{"from": "a", "to": "zz"}]}));
    assert_eq!(p.len(), 4, "{p:?}");
}

#[test]
fn yaml_and_json_give_the_same_manifest() {
    let yaml = "version: v1\nmetadata:\n  name: m\nnodes:\n  - id: a\n    node_type: MultiplyNode\n    params:\n      factor: 2\n  - id: b\n    node_type: AddNode\nconnections:\n  - from: a\n    to: b\n";
    let json = r#"{"version": "v1", "metadata": {"name": "m"}, "nodes": [{"id": "a", "node_type": "MultiplyNode", "params": {"factor": 2}}, {"id": "b", "node_type": "AddNode"}], "connections": [{"from": "a", "to": "b"}]}"#;
    assert_eq!(Manifest::from_yaml(yaml).unwrap(), Manifest::from_json(json).unwrap());
}

#[test]
fn serialization_round_trips() {
    let m = Manifest::from_value(json!({"version": "v1",
        "nodes": [{"id": "a", "node_type": "MultiplyNode", "params": {"factor": 2}, "retry": {"max_retries": 1}}]}))
    .unwrap();
    assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
}

#[test]
fn schema_covers_every_node_type_and_its_params() {
    let engine = Engine::default();
    let schema = Manifest::json_schema(engine.registry());
    assert_eq!(schema.pointer("/properties/version/const"), Some(&json!("v1")));
    let node_types = schema.pointer("/$defs/NodeSpec/properties/node_type/enum").unwrap();
    for t in ["PassThroughNode", "MultiplyNode", "AddNode"] {
        assert!(node_types.as_array().unwrap().contains(&json!(t)), "{t} missing");
    }
    let branches = schema.pointer("/$defs/NodeSpec/allOf").unwrap().as_array().unwrap();
    let multiply = branches
        .iter()
        .find(|b| b.pointer("/if/properties/node_type/enum/0") == Some(&json!("MultiplyNode")))
        .unwrap();
    let factor = multiply.pointer("/then/properties/params/properties/factor").unwrap();
    assert_eq!(factor.get("default"), Some(&json!(2.0)));
    assert!(factor.get("description").unwrap().as_str().unwrap().contains("factor"));
}

#[test]
fn absurd_resilience_settings_are_bounded() {
    let text: Vec<String> = problems(chain(json!([{"id": "m", "node_type": "AddNode",
        "retry": {"max_retries": 1_000_000_000u64, "initial_delay_ms": u64::MAX, "max_delay_ms": u64::MAX,
                  "multiplier": 5000.0},
        "timeout_ms": u64::MAX, "circuit_breaker": {"cooldown_ms": u64::MAX}}])))
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        text,
        [
            "nodes[0].retry.multiplier: must be a number from 1 to 1000, got 5000 (node \"m\")",
            "nodes[0].retry.max_retries: must be at most 100, got 1000000000 (node \"m\")",
            "nodes[0].retry.initial_delay_ms: must be at most 3600000 (one hour), got 18446744073709551615 (node \"m\")",
            "nodes[0].retry.max_delay_ms: must be at most 3600000 (one hour), got 18446744073709551615 (node \"m\")",
            "nodes[0].timeout_ms: must be at most 86400000 (24 hours), got 18446744073709551615 (node \"m\")",
            "nodes[0].circuit_breaker.cooldown_ms: must be at most 86400000 (24 hours), got 18446744073709551615 (node \"m\")",
        ]
    );
    // The limits themselves are fine.
    compile(chain(json!([{"id": "m", "node_type": "AddNode",
        "retry": {"max_retries": 100, "initial_delay_ms": 3_600_000, "max_delay_ms": 3_600_000, "multiplier": 1000},
        "timeout_ms": 86_400_000, "circuit_breaker": {"cooldown_ms": 86_400_000}}])))
    .unwrap();
}

#[test]
fn node_ids_are_bounded_and_printable() {
    let long = "x".repeat(257);
    let p = one_problem(chain(json!([{"id": long, "node_type": "AddNode"}])));
    assert_eq!(p.path, "nodes[0].id");
    assert!(p.message.contains("257 bytes long; at most 256"), "{p}");
    // The id is cut short where the problem prints it.
    assert!(p.to_string().len() < 300, "{p}");
    compile(chain(json!([{"id": "y".repeat(256), "node_type": "AddNode"}]))).unwrap();
    for id in [
        "a\u{1b}[2Jb",
        "a\nb",
        "tab\there",
        "del\u{7f}",
        "c1\u{9b}",
        "rlo\u{202e}txt.exe",
        "iso\u{2066}x",
    ] {
        let p = one_problem(chain(json!([{"id": id, "node_type": "AddNode"}])));
        assert_eq!(p.path, "nodes[0].id", "{id:?}");
        assert!(p.message.contains("control characters"), "{p}");
        let shown = p.to_string();
        assert!(!shown.chars().any(remotemedia_core::printable::is_unsafe), "{shown:?}");
    }
    // Non-ASCII ids are fine.
    compile(chain(json!([{"id": "Überprüfung-音声", "node_type": "AddNode"}]))).unwrap();
}

#[test]
fn user_strings_in_problems_are_escaped_and_cut_short() {
    let evil = format!("\u{1b}]0;owned\u{7}\n{}", "z".repeat(10_000));
    let m = json!({"version": "v1",
        "nodes": [{"id": "a", "node_type": evil}],
        "connections": [{"from": "a", "to": evil}, {"from": "a", "to": evil}]});
    let shown: Vec<String> = problems(m).iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 4, "{shown:?}");
    for s in &shown {
        assert!(!s.chars().any(char::is_control), "{s:?}");
        assert!(s.len() < 400, "{} bytes", s.len());
        assert!(s.contains("\\u{1b}]0;owned\\u{7}\\n"), "{s}");
    }
    // A param key is a user string too.
    let p = one_problem(chain(
        json!([{"id": "m", "node_type": "AddNode", "params": {"\u{1b}[31m": 1}}]),
    ));
    assert!(!p.to_string().chars().any(char::is_control), "{p}");
}

#[test]
fn every_param_problem_of_a_node_is_listed() {
    let text: Vec<String> = problems(chain(json!([
        {"id": "f", "node_type": "FaultInjectionNode",
         "params": {"fail_times": "x", "sleep_ms": -1, "bogus": 1, "error_class": "weird"}},
        {"id": "g", "node_type": "FaultInjectionNode", "params": {"sleep_ms": 4_000_000, "allocate_bytes": 1u64 << 40}}
    ])))
    .iter()
    .map(ToString::to_string)
    .collect();
    let paths: Vec<&str> = text.iter().map(|t| t.split(':').next().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "nodes[0].params.bogus",
            "nodes[0].params.error_class",
            "nodes[0].params.fail_times",
            "nodes[0].params.sleep_ms",
            "nodes[1].params.allocate_bytes",
            "nodes[1].params.sleep_ms",
        ],
        "{text:#?}"
    );
}

#[test]
fn every_shape_problem_of_the_manifest_is_listed() {
    let m = json!({"version": "v1", "extra": 1, "metadata": {"name": 5},
        "nodes": [
            {"id": "a", "node_type": "AddNode", "timeout_ms": -5, "paramz": {}},
            {"id": "b", "node_type": "AddNode", "runtime_hint": "gpu"},
            {"node_type": "AddNode"},
            "not a node"
        ],
        "connections": [{"from": "a", "to": "b", "weight": 2}, {"from": "a"}]});
    let found: Vec<(String, Option<String>)> = problems(m).into_iter().map(|p| (p.path, p.node_id)).collect();
    let a = Some("a".to_owned());
    let b = Some("b".to_owned());
    assert_eq!(
        found,
        [
            ("nodes[0].paramz".to_owned(), a.clone()),
            ("nodes[0].timeout_ms".to_owned(), a),
            ("nodes[1].runtime_hint".to_owned(), b),
            ("nodes[2]".to_owned(), None),
            ("nodes[3]".to_owned(), None),
            ("connections[0].weight".to_owned(), None),
            ("connections[1]".to_owned(), None),
            ("extra".to_owned(), None),
            ("metadata.name".to_owned(), None),
        ]
    );
}

#[test]
fn a_huge_param_name_is_cut_short_where_it_is_printed() {
    let key = "k".repeat(1_000_000);
    let p = one_problem(chain(json!([{"id": "m", "node_type": "AddNode", "params": {key: 1}}])));
    let shown = p.to_string();
    assert!(shown.len() < 3000, "{} bytes", shown.len());
    assert!(shown.contains("bytes)"), "{shown}");
}

#[test]
fn a_required_field_of_the_wrong_type_is_one_problem_not_two() {
    // Set aside to go on checking, the id goes missing: that is not a
    // second problem.
    let found: Vec<String> = problems(chain(json!([{"id": 5, "node_type": "AddNode", "timeout_ms": "x"}])))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("nodes[0].id: invalid type"), "{found:#?}");
    assert!(found[1].starts_with("nodes[0].timeout_ms: invalid type"), "{found:#?}");
    assert!(!found.iter().any(|p| p.contains("missing field")), "{found:#?}");
}

#[test]
fn the_schema_states_the_bounds_validation_enforces() {
    use remotemedia_core::manifest::{
        MAX_COOLDOWN_MS, MAX_ID_BYTES, MAX_MULTIPLIER, MAX_RETRIES, MAX_RETRY_DELAY_MS, MAX_TIMEOUT_MS,
    };
    let schema = Manifest::json_schema(Engine::default().registry());
    let at = |p: &str| schema.pointer(p).unwrap_or_else(|| panic!("{p} missing")).clone();
    assert_eq!(at("/$defs/NodeSpec/properties/id/maxLength"), json!(MAX_ID_BYTES));
    assert_eq!(
        at("/$defs/NodeSpec/properties/timeout_ms/maximum"),
        json!(MAX_TIMEOUT_MS)
    );
    assert_eq!(
        at("/$defs/RetryConfig/properties/max_retries/maximum"),
        json!(MAX_RETRIES)
    );
    assert_eq!(
        at("/$defs/RetryConfig/properties/initial_delay_ms/maximum"),
        json!(MAX_RETRY_DELAY_MS)
    );
    assert_eq!(
        at("/$defs/RetryConfig/properties/max_delay_ms/maximum"),
        json!(MAX_RETRY_DELAY_MS)
    );
    assert_eq!(
        at("/$defs/RetryConfig/properties/multiplier/maximum").as_f64(),
        Some(MAX_MULTIPLIER)
    );
    assert_eq!(
        at("/$defs/BreakerConfig/properties/cooldown_ms/maximum"),
        json!(MAX_COOLDOWN_MS)
    );
}
