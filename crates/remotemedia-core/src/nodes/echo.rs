//! `Echo`: the older runtime's test node, kept for its clients.

use serde_json::{Value, json};

use crate::data::RuntimeData;
use crate::error::NodeError;
use crate::node::Node;

/// Wraps every input as `{"input": <input>, "counter": n, "node": "Echo"}`,
/// with `n` counting calls from 1 (restarting after a reset). Takes JSON or
/// text.
#[derive(Debug, Default, Clone, Copy)]
pub struct EchoNode {
    calls: u64,
}

impl Node for EchoNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let input = match input {
            RuntimeData::Json(v) => v,
            RuntimeData::Text(t) => Value::String(t.to_string()),
            other => return Err(NodeError::invalid_input("Echo", "JSON or text", other.kind())),
        };
        self.calls += 1;
        out.push(RuntimeData::Json(
            json!({"input": input, "counter": self.calls, "node": "Echo"}),
        ));
        Ok(())
    }

    fn reset(&mut self) {
        self.calls = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_from_one() {
        let mut node = EchoNode::default();
        let mut out = Vec::new();
        node.process(RuntimeData::Json(json!("a")), &mut out).unwrap();
        node.process(RuntimeData::Json(json!({"b": 1})), &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                RuntimeData::Json(json!({"input": "a", "counter": 1, "node": "Echo"})),
                RuntimeData::Json(json!({"input": {"b": 1}, "counter": 2, "node": "Echo"})),
            ]
        );
    }
}
