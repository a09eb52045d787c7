//! Manifest text is read strictly, the same way in JSON and YAML: hostile
//! documents are refused with a clear error, and nothing changes meaning
//! silently (duplicate keys, non-finite numbers, YAML 1.1 spellings).

use remotemedia_core::document::{MAX_DEPTH, parse_json, parse_yaml};
use remotemedia_core::{Manifest, ManifestError, Problem};
use serde_json::json;

fn refusal(result: Result<serde_json::Value, ManifestError>) -> Problem {
    let mut problems = result.expect_err("document should be refused").problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    problems.remove(0)
}

#[test]
fn yaml_follows_the_1_2_core_schema() {
    let v = parse_yaml("a: on\nb: no\nc: yes\nd: off\ne: 0777\nf: 1e3\ng: 0o17\nh: true\ni: ~\nj: '1'\n").unwrap();
    assert_eq!(
        v,
        json!({"a": "on", "b": "no", "c": "yes", "d": "off", "e": 777.0, "f": 1000.0, "g": 15,
               "h": true, "i": null, "j": "1"})
    );
}

#[test]
fn deep_yaml_nesting_is_refused_at_the_limit() {
    // Issue 14 item 7: 60,000 nested flow mappings took 19 s to refuse.
    let text = format!("version: v1\nnodes: {}", "{a: ".repeat(60_000));
    let p = refusal(parse_yaml(&text));
    assert_eq!(p.message, format!("nested deeper than {MAX_DEPTH} levels"));
    assert!(p.path.starts_with("nodes.a.a.a"), "{p}");
}

#[test]
fn deep_json_nesting_is_refused_the_same_way() {
    let text = format!("{{\"nodes\": {}", "{\"a\": ".repeat(60_000));
    let p = refusal(parse_json(&text));
    assert_eq!(p.message, format!("nested deeper than {MAX_DEPTH} levels"));
    assert!(p.path.starts_with("nodes.a.a.a"), "{p}");
    let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    parse_json(&ok).unwrap();
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
    }
    let e = parse_yaml(&text).unwrap_err();
    assert!(e.to_string().starts_with("YAML syntax error:"), "{e}");
    assert!(e.to_string().contains("alias"), "{e}");
}

#[test]
fn a_few_aliases_are_fine() {
    let v = parse_yaml("r: &r {max_retries: 2}\ns: *r\n").unwrap();
    assert_eq!(v, json!({"r": {"max_retries": 2}, "s": {"max_retries": 2}}));
}

#[test]
fn non_finite_yaml_numbers_are_refused_with_the_path() {
    for spelling in [".nan", ".NaN", ".inf", "-.inf", "+.Inf", "1e999"] {
        let text = format!("version: v1\nnodes:\n  - id: m\n    node_type: AddNode\n    timeout_ms: {spelling}\n");
        let e = parse_yaml(&text).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("nodes[0].timeout_ms"), "{spelling}: {text}");
        assert!(text.contains("finite"), "{spelling}: {text}");
    }
}

#[test]
fn duplicate_keys_are_refused_with_the_path() {
    let p = refusal(parse_json(
        r#"{"version": "v1", "nodes": [{"id": "m", "node_type": "AddNode", "params": {"addend": 1, "addend": 2}}]}"#,
    ));
    assert_eq!(
        p.to_string(),
        "nodes[0].params.addend: duplicate key (each key may appear once)"
    );
    let p = refusal(parse_yaml(
        "version: v1\nnodes:\n  - id: m\n    node_type: AddNode\n    params: {addend: 1, addend: 2}\n",
    ));
    assert_eq!(
        p.to_string(),
        "nodes[0].params.addend: duplicate key (each key may appear once)"
    );
    let p = refusal(parse_yaml("version: v1\nversion: v1\nnodes: []\n"));
    assert_eq!(p.path, "version");
}

#[test]
fn keys_must_be_strings() {
    let p = refusal(parse_yaml("version: v1\nnodes:\n  - 1: x\n"));
    assert_eq!(p.to_string(), "nodes[0]: mapping key 1 is not a string (quote it)");
}

#[test]
fn manifests_go_through_the_strict_reader() {
    let e = Manifest::from_yaml("version: v1\nnodes:\n  - id: m\n    node_type: AddNode\n    timeout_ms: .nan\n")
        .unwrap_err();
    assert!(e.to_string().starts_with("nodes[0].timeout_ms:"), "{e}");
    let e = Manifest::from_json(r#"{"version": "v1", "version": "v1", "nodes": []}"#).unwrap_err();
    assert_eq!(e.to_string(), "version: duplicate key (each key may appear once)");
}

#[test]
fn the_shared_yaml_fixture_reads_as_its_json_twin() {
    // tests/test_manifest_text.py reads the same pair through the Python SDK.
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/");
    let yaml = std::fs::read_to_string(format!("{data}yaml_traps.yaml")).unwrap();
    let json = std::fs::read_to_string(format!("{data}yaml_traps.json")).unwrap();
    assert_eq!(parse_yaml(&yaml).unwrap(), parse_json(&json).unwrap());
    assert_eq!(Manifest::from_yaml(&yaml).unwrap(), Manifest::from_json(&json).unwrap());
}
