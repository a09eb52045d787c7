//! A native node run one whole clip per call ([`crate::RunMode::Clips`]).

use crate::data::RuntimeData;
use crate::error::NodeError;
use crate::join::join_pieces;
use crate::node::Node;

/// `inner`, reset before every input, flushed after it, its pieces joined
/// into one value. Built by the pipeline around each native node of a run
/// in clip mode; not a node type.
pub(crate) struct Clip {
    inner: Box<dyn Node>,
    pieces: Vec<RuntimeData>,
}

impl Clip {
    pub(crate) fn new(inner: Box<dyn Node>) -> Self {
        Self {
            inner,
            pieces: Vec::new(),
        }
    }
}

impl Node for Clip {
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        self.inner.reset();
        self.pieces.clear();
        let result = self
            .inner
            .process(input, &mut self.pieces)
            .and_then(|()| self.inner.flush(&mut self.pieces));
        if result.is_err() {
            self.pieces.clear();
            return result;
        }
        if self.pieces.len() == 1 {
            out.append(&mut self.pieces);
        } else {
            out.extend(join_pieces(std::mem::take(&mut self.pieces)));
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
}
