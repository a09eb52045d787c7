//! `PassThroughNode`: hands every input on unchanged.

use crate::data::RuntimeData;
use crate::error::NodeError;
use crate::node::Node;

/// Hands every input on unchanged (audio buffers are shared, not copied).
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThroughNode;

impl Node for PassThroughNode {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        out.push(input);
        Ok(())
    }
}
