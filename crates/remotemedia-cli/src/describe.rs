//! `remotemedia nodes`: the node types and their params, from the params'
//! JSON Schemas (which come from the params' doc comments and defaults).

use remotemedia_core::Registry;
use serde_json::{Value, json};

/// One param as shown to a user.
struct ParamDoc {
    name: String,
    ty: String,
    default: Option<Value>,
    doc: String,
}

fn params(schema: &Value) -> Vec<ParamDoc> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| ParamDoc {
            name: name.clone(),
            ty: type_name(schema, p),
            default: p.get("default").cloned(),
            doc: p.get("description").and_then(Value::as_str).unwrap_or("").to_owned(),
        })
        .collect()
}

/// A readable type for a property schema: its `type`, its enum values, or
/// the type it refers to.
fn type_name(root: &Value, p: &Value) -> String {
    if let Some(values) = p.get("enum").and_then(Value::as_array) {
        return values.iter().map(Value::to_string).collect::<Vec<_>>().join(" | ");
    }
    if let Some(ty) = p.get("type") {
        return match ty {
            Value::Array(types) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "),
            other => other.as_str().unwrap_or("?").to_owned(),
        };
    }
    let reference = p
        .get("$ref")
        .or_else(|| p.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/"));
    if let Some(target) = reference.and_then(|r| root.pointer(&format!("/{r}"))) {
        if let Some(one_of) = target.get("oneOf").and_then(Value::as_array) {
            return one_of
                .iter()
                .filter_map(|v| v.get("const").or_else(|| v.pointer("/enum/0")))
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" | ");
        }
        return type_name(root, target);
    }
    "any".to_owned()
}

/// Prints the node types, as text or JSON.
pub fn print_nodes(registry: &Registry, as_json: bool) {
    if as_json {
        let list: Vec<Value> = registry
            .types()
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "aliases": t.aliases,
                    "description": t.description,
                    "runtimes": t.runtimes().map(|r| r.to_string()).collect::<Vec<_>>(),
                    "params": params(&t.params_schema).into_iter().map(|p| json!({
                        "name": p.name, "type": p.ty, "default": p.default, "doc": p.doc,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list).expect("serializes"));
        return;
    }
    for t in registry.types() {
        let runtimes: Vec<String> = t.runtimes().map(|r| r.to_string()).collect();
        print!("{}", t.name);
        if !t.aliases.is_empty() {
            print!(" (also: {})", t.aliases.join(", "));
        }
        println!("  [{}]", runtimes.join(", "));
        println!("    {}", t.description);
        let ps = params(&t.params_schema);
        if ps.is_empty() {
            println!("    (no params)");
        }
        for p in ps {
            let default = p.default.map(|d| format!(" = {d}")).unwrap_or_default();
            println!("    {}: {}{}", p.name, p.ty, default);
            if !p.doc.is_empty() {
                println!("        {}", p.doc);
            }
        }
        println!();
    }
}
