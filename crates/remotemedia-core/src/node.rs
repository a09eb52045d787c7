//! The node contract, shared by native and foreign (Python) nodes.

use crate::data::RuntimeData;
use crate::error::NodeError;

/// A processing step in a pipeline, shaped for streaming.
///
/// A node is built from typed params (see [`crate::params::NodeParams`]),
/// then called once per input. It may keep state across calls (filter
/// history, a detector's hangover): consecutive calls are one continuous
/// stream until [`Node::flush`] ends it or [`Node::reset`] starts anew.
///
/// Outputs are pushed into `out`, a buffer the engine owns and reuses, so a
/// node that emits one value per call allocates nothing for the hand-over.
///
/// # Errors
///
/// Return [`NodeError::transient`] for failures worth retrying (timeouts, a
/// busy remote service) and [`NodeError::fatal`] for everything else (bad
/// input, a bug). The engine resets a node before retrying it, so a retried
/// input never sees state left by the failed attempt.
///
/// # Example
///
/// ```
/// use remotemedia_core::{Node, NodeError, RuntimeData};
///
/// /// Counts the inputs it has seen and emits the count.
/// struct Counter(u64);
///
/// impl Node for Counter {
///     fn process(&mut self, _input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
///         self.0 += 1;
///         out.push(RuntimeData::Json(self.0.into()));
///         Ok(())
///     }
///
///     fn reset(&mut self) {
///         self.0 = 0;
///     }
/// }
///
/// let mut node = Counter(0);
/// let mut out = Vec::new();
/// node.process(RuntimeData::Json(1.into()), &mut out).unwrap();
/// node.process(RuntimeData::Json(2.into()), &mut out).unwrap();
/// assert_eq!(out, vec![RuntimeData::Json(1.into()), RuntimeData::Json(2.into())]);
/// ```
pub trait Node: Send {
    /// Processes one input, pushing zero or more outputs.
    fn process(&mut self, input: RuntimeData, out: &mut Vec<RuntimeData>) -> Result<(), NodeError>;

    /// Ends the stream: pushes whatever the node still holds (a resampler's
    /// tail, an open speech segment). The default holds nothing.
    fn flush(&mut self, _out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        Ok(())
    }

    /// True while the node has more to release at the end of the stream
    /// than one [`Node::flush`] call should hold: a source reading a file
    /// gives one chunk per call. At the end of the stream the engine calls
    /// `flush` on such a node again and again, walking each call's outputs
    /// through the rest of the graph (and handing them to the caller)
    /// before the next, so memory stays bounded by one call's outputs; it
    /// stops when this returns false or a call pushes nothing, and then
    /// flushes every node as usual. The default has nothing more.
    fn has_more(&self) -> bool {
        false
    }

    /// True while the node holds back outputs of its last `process` (or
    /// `release`) call: a node that may make many outputs from one input
    /// (a streaming Python node) hands them out a batch per call. The engine
    /// then calls [`Node::release`] until this returns false, walking each
    /// batch through the rest of the graph (and, in a session, handing it
    /// to the receiver, waiting while its queue is full) before the next,
    /// and before the next input. So memory stays bounded by one batch. The
    /// default holds nothing back.
    fn holds_output(&self) -> bool {
        false
    }

    /// True for a node that may ever hold outputs back
    /// ([`Node::holds_output`]). Asked once, when a run builds the node, so
    /// that nodes that never do cost nothing per call. The default: never.
    fn may_hold_output(&self) -> bool {
        false
    }

    /// Pushes the next batch of the outputs held back (see
    /// [`Node::holds_output`]). The default has none.
    fn release(&mut self, _out: &mut Vec<RuntimeData>) -> Result<(), NodeError> {
        Ok(())
    }

    /// Forgets all stream state, as if newly built. Called before a retry and
    /// after a discontinuity. The default has no state to forget.
    fn reset(&mut self) {}
}
