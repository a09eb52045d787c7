//! Whole-clip runs of native nodes inside the engine.
//!
//! `Pipeline.run` treats every item as one whole clip, as calling each node
//! directly does: a node sees the clip once, starts fresh and is flushed at
//! its end, and hands on one value. The engine's native nodes stream (a
//! resampler or VAD emits on `process` and again on `flush`), so for batch
//! runs every native node is wrapped in a [`ClipNode`] that does exactly
//! that; a Python node downstream is then called once per clip, as on the
//! pure-Python path. Streaming runs use the nodes unwrapped.

use remotemedia_core::{Node, NodeError, RuntimeData};

use crate::merge::merge_clip;

/// A node run one whole clip per call.
pub struct ClipNode {
    inner: Box<dyn Node>,
    pieces: Vec<RuntimeData>,
}

impl ClipNode {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Node>) -> Self {
        Self {
            inner,
            pieces: Vec::new(),
        }
    }
}

impl Node for ClipNode {
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
            out.extend(merge_clip(std::mem::take(&mut self.pieces)));
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
}
