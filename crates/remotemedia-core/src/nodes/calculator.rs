//! `CalculatorNode`: the older runtime's arithmetic node, kept for its
//! clients.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::data::RuntimeData;
use crate::error::NodeError;
use crate::node::Node;
use crate::params::{NodeParams, ParamError};

/// The operation of a [`CalculatorNode`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// input + operand
    #[default]
    Add,
    /// input - operand
    Subtract,
    /// input x operand
    Multiply,
    /// input / operand (an operand of 0 fails each call)
    Divide,
}

/// Params of [`CalculatorNode`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CalculatorParams {
    /// What to do with each input.
    pub operation: Operation,
    /// The second operand (older spelling: `value`).
    #[serde(alias = "value")]
    pub operand: f64,
}

impl NodeParams for CalculatorParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.operand.is_finite() {
            Ok(())
        } else {
            Err(ParamError::new(
                "operand",
                format!("must be a finite number, got {}", self.operand),
            ))
        }
    }
}

/// Applies `operation` with `operand` to a number input (or the numeric
/// `value` of an object input). A whole result is emitted as an integer.
/// Division by zero is a (fatal) node error.
#[derive(Debug, Clone)]
pub struct CalculatorNode {
    params: CalculatorParams,
}

impl CalculatorNode {
    /// A node computing with `params`.
    pub fn new(params: CalculatorParams) -> Self {
        Self { params }
    }
}

impl Node for CalculatorNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let x = match &input {
            RuntimeData::Json(Value::Number(n)) => n.as_f64(),
            RuntimeData::Json(Value::Object(o)) => o.get("value").and_then(Value::as_f64),
            _ => None,
        };
        let Some(x) = x else {
            let got = match &input {
                RuntimeData::Json(v) => v.to_string(),
                other => other.kind().to_owned(),
            };
            return Err(NodeError::invalid_input(
                "CalculatorNode",
                "a number or an object with a numeric \"value\"",
                &got,
            ));
        };
        let b = self.params.operand;
        let y = match self.params.operation {
            Operation::Add => x + b,
            Operation::Subtract => x - b,
            Operation::Multiply => x * b,
            Operation::Divide if b == 0.0 => {
                return Err(NodeError::fatal(format!("CalculatorNode: division of {x} by zero")));
            }
            Operation::Divide => x / b,
        };
        let value = if y.fract() == 0.0 && y.abs() < 9.0e15 {
            Value::from(y as i64)
        } else {
            Number::from_f64(y)
                .map(Value::Number)
                .ok_or_else(|| NodeError::fatal(format!("CalculatorNode: result {y} is not a finite number")))?
        };
        out.push(RuntimeData::Json(value));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn calc(operation: Operation, operand: f64, input: Value) -> Result<Value, NodeError> {
        let mut out = Vec::new();
        CalculatorNode::new(CalculatorParams { operation, operand }).process(RuntimeData::Json(input), &mut out)?;
        match out.pop() {
            Some(RuntimeData::Json(v)) => Ok(v),
            other => panic!("expected JSON, got {other:?}"),
        }
    }

    #[test]
    fn whole_results_are_integers_others_floats() {
        assert_eq!(calc(Operation::Multiply, 3.0, json!(4)).unwrap(), json!(12));
        assert_eq!(calc(Operation::Divide, 4.0, json!({"value": 2})).unwrap(), json!(0.5));
        assert_eq!(calc(Operation::Subtract, 1.5, json!(0.5)).unwrap(), json!(-1));
    }

    #[test]
    fn division_by_zero_and_bad_input_are_errors() {
        assert!(
            calc(Operation::Divide, 0.0, json!(1))
                .unwrap_err()
                .message()
                .contains("by zero")
        );
        assert!(
            calc(Operation::Add, 1.0, json!("x"))
                .unwrap_err()
                .message()
                .contains("\"x\"")
        );
    }

    #[test]
    fn value_is_a_synonym_of_operand() {
        let p: CalculatorParams = serde_json::from_value(json!({"operation": "add", "value": 2})).unwrap();
        assert_eq!(p.operand, 2.0);
    }
}
