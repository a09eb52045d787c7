//! `MultiplyNode` and `AddNode`: arithmetic on numbers and lists of numbers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::data::{AudioData, RuntimeData, Samples};
use crate::error::NodeError;
use crate::node::Node;
use crate::params::{NodeParams, ParamError};

/// Params of [`MultiplyNode`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MultiplyParams {
    /// The factor every number is multiplied by.
    pub factor: f64,
}

impl Default for MultiplyParams {
    fn default() -> Self {
        Self { factor: 2.0 }
    }
}

impl NodeParams for MultiplyParams {
    fn validate(&self) -> Result<(), ParamError> {
        finite("factor", self.factor)
    }
}

/// Params of [`AddNode`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AddParams {
    /// The constant added to every number.
    pub addend: f64,
}

impl NodeParams for AddParams {
    fn validate(&self) -> Result<(), ParamError> {
        finite("addend", self.addend)
    }
}

fn finite(field: &str, v: f64) -> Result<(), ParamError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ParamError::new(field, format!("must be a finite number, got {v}")))
    }
}

/// Multiplies numbers, nested lists of numbers, or f32 audio by `factor`.
#[derive(Debug, Clone)]
pub struct MultiplyNode {
    factor: f64,
}

impl MultiplyNode {
    /// A node multiplying by `params.factor`.
    pub fn new(params: MultiplyParams) -> Self {
        Self { factor: params.factor }
    }
}

impl Node for MultiplyNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let factor = self.factor;
        let result = match input {
            RuntimeData::Json(v) => RuntimeData::Json(map_numbers(&v, "MultiplyNode", &|x| x * factor)?),
            RuntimeData::Audio(a) => RuntimeData::Audio(scale_audio(&a, factor as f32)?),
            other => {
                return Err(NodeError::invalid_input(
                    "MultiplyNode",
                    "numbers or f32 audio",
                    other.kind(),
                ));
            }
        };
        out.push(result);
        Ok(())
    }
}

/// Adds `addend` to numbers or nested lists of numbers.
#[derive(Debug, Clone)]
pub struct AddNode {
    addend: f64,
}

impl AddNode {
    /// A node adding `params.addend`.
    pub fn new(params: AddParams) -> Self {
        Self { addend: params.addend }
    }
}

impl Node for AddNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        let addend = self.addend;
        match input {
            RuntimeData::Json(v) => {
                out.push(RuntimeData::Json(map_numbers(&v, "AddNode", &|x| x + addend)?));
                Ok(())
            }
            other => Err(NodeError::invalid_input("AddNode", "numbers", other.kind())),
        }
    }
}

/// Applies `f` to every number of a number or (nested) list of numbers.
/// Integers stay integers when the result is integral.
fn map_numbers(v: &Value, node: &str, f: &dyn Fn(f64) -> f64) -> Result<Value, NodeError> {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let y = f(x);
            let integral = (n.is_i64() || n.is_u64()) && y.fract() == 0.0 && y.abs() < 9.0e15;
            Ok(if integral {
                Value::from(y as i64)
            } else {
                Number::from_f64(y)
                    .map(Value::Number)
                    .ok_or_else(|| NodeError::fatal(format!("{node}: result {y} is not a finite number")))?
            })
        }
        Value::Array(items) => items
            .iter()
            .map(|i| map_numbers(i, node, f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        other => Err(NodeError::invalid_input(
            node,
            "a number or a list of numbers",
            &other.to_string(),
        )),
    }
}

fn scale_audio(a: &AudioData, factor: f32) -> Result<AudioData, NodeError> {
    let Samples::F32(s) = a.samples() else {
        return Err(NodeError::invalid_input(
            "MultiplyNode",
            "f32 audio",
            &format!("{} audio", a.format()),
        ));
    };
    let scaled: Vec<f32> = s.iter().map(|x| x * factor).collect();
    AudioData::new(scaled, a.channels(), a.sample_rate()).map_err(|e| NodeError::fatal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(node: &mut dyn Node, v: Value) -> Result<Value, NodeError> {
        let mut out = Vec::new();
        node.process(RuntimeData::Json(v), &mut out)?;
        match out.pop() {
            Some(RuntimeData::Json(v)) => Ok(v),
            other => panic!("unexpected output {other:?}"),
        }
    }

    #[test]
    fn multiply_then_add() {
        let mut m = MultiplyNode::new(MultiplyParams { factor: 2.0 });
        let mut a = AddNode::new(AddParams { addend: 10.0 });
        let v = run(&mut m, json!([1, 2, 3])).unwrap();
        assert_eq!(run(&mut a, v).unwrap(), json!([12, 14, 16]));
        assert_eq!(run(&mut m, json!(1.25)).unwrap(), json!(2.5));
        assert_eq!(run(&mut m, json!([[1], [2.5]])).unwrap(), json!([[2], [5.0]]));
    }

    #[test]
    fn rejects_non_numbers() {
        let mut m = MultiplyNode::new(MultiplyParams::default());
        let err = run(&mut m, json!(["a"])).unwrap_err();
        assert!(err.message().contains("MultiplyNode expects a number"), "{err}");
        assert!(!err.is_transient());
        let mut out = Vec::new();
        let err = AddNode::new(AddParams::default())
            .process(RuntimeData::Text("x".into()), &mut out)
            .unwrap_err();
        assert_eq!(err.message(), "AddNode expects numbers, got text");
    }

    #[test]
    fn overflow_is_an_error() {
        let mut m = MultiplyNode::new(MultiplyParams { factor: 1e300 });
        assert!(run(&mut m, json!(1e300)).is_err());
    }

    #[test]
    fn scales_f32_audio() {
        let mut m = MultiplyNode::new(MultiplyParams { factor: 0.5 });
        let mut out = Vec::new();
        let audio = AudioData::new(vec![1.0f32, -0.5, 0.25, 0.0], 2, 8000).unwrap();
        m.process(RuntimeData::Audio(audio), &mut out).unwrap();
        let want = AudioData::new(vec![0.5f32, -0.25, 0.125, 0.0], 2, 8000).unwrap();
        assert_eq!(out, vec![RuntimeData::Audio(want)]);
    }
}
