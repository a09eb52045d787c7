//! One node of a run: its instance, its counters, and the node's
//! [`Policy`](crate::resilience::Policy) composed around each call — the
//! only place a node is actually called.
//!
//! An execution goes through, in order: the circuit breaker (open: the
//! `on_failure` fallback answers instead of the node); an attempt (inline,
//! or on a detached thread under `timeout_ms`, see [`super::attempt`]);
//! for a transient error, retries on the retry policy's schedule, the node
//! reset before each; the outcome told to the breaker; a final failure
//! handed to the fallback.

use crate::data::RuntimeData;
use crate::error::{EngineError, NodeError};
use crate::manifest::OnFailure;
use crate::metrics::{NodeMetrics, NodeStatus};
use crate::node::Node;
use crate::overrides::RunContext;
use crate::pipeline::Pipeline;

pub(crate) use super::attempt::Recorder;
use super::attempt::{self, Call, Outcome};

/// A node instance and its counters.
pub(crate) struct NodeSlot {
    index: usize,
    /// `None` after a call was abandoned at its timeout (it may still be
    /// running on its detached thread); rebuilt from the pipeline's factory
    /// before the next call. A node that panicked is kept and reset.
    node: Option<Box<dyn Node>>,
    /// The run's context, for that rebuild.
    context: RunContext,
    /// Whether the node may hold outputs back ([`Node::may_hold_output`]).
    may_hold: bool,
    pub(crate) metrics: NodeMetrics,
}

/// Work [`NodeSlot::process_now`] hands back.
pub(crate) enum Pending {
    /// The run fails with this error.
    Failed(EngineError),
    /// The node has a timeout: the attempt must run on a detached thread.
    Start(RuntimeData),
    /// The first attempt failed: retry or give up (the input, when kept).
    Recover(Option<RuntimeData>, NodeError),
}

/// What a failure cost: an input (kept when `passthrough` needs it), or the
/// flush at the end of the stream.
enum Lost {
    Input(Option<RuntimeData>),
    Flush,
}

impl NodeSlot {
    pub(crate) fn new(index: usize, node: Box<dyn Node>, context: RunContext) -> Self {
        Self {
            index,
            may_hold: node.may_hold_output(),
            node: Some(node),
            context,
            metrics: NodeMetrics::default(),
        }
    }

    /// True when the node has more to release at the end of the stream
    /// (see [`Node::has_more`]).
    pub(crate) fn has_more(&self) -> bool {
        self.node.as_ref().is_some_and(|n| n.has_more())
    }

    /// True when the node holds back outputs of its last call (see
    /// [`Node::holds_output`]).
    pub(crate) fn may_hold(&self) -> bool {
        self.may_hold
    }

    pub(crate) fn holds_output(&self) -> bool {
        self.may_hold && self.node.as_ref().is_some_and(|n| n.holds_output())
    }

    pub(crate) fn reset(&mut self) {
        if let Some(n) = &mut self.node {
            n.reset();
        }
    }

    /// Processes one input as far as it can without waiting: the breaker
    /// check and, for a node without a timeout, the first attempt. Whatever
    /// needs the clock (a timeout, a retry's backoff) is handed back as
    /// [`Pending`] for [`Self::finish`]. Keeping the common case synchronous
    /// keeps a hop a plain function call.
    pub(crate) fn process_now(
        &mut self,
        pipeline: &Pipeline,
        input: RuntimeData,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), Pending> {
        let policy = pipeline.policy(self.index);
        if !policy.breaker.permit() {
            self.metrics.status = NodeStatus::Failed;
            let open = circuit_open(pipeline, self.index);
            return self
                .fall_back(policy.on_failure, Lost::Input(Some(input)), out, open)
                .map_err(Pending::Failed);
        }
        if policy.timeout.is_some() {
            return Err(Pending::Start(input));
        }
        let original = policy.keep(&input);
        match self.call_inline(pipeline, Call::Process(input), out, rec) {
            Ok(()) => {
                policy.breaker.record_success();
                Ok(())
            }
            Err(error) => Err(Pending::Recover(original, error)),
        }
    }

    /// Completes what [`Self::process_now`] could not.
    pub(crate) async fn finish(
        &mut self,
        pipeline: &Pipeline,
        pending: Pending,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), EngineError> {
        let (original, error) = match pending {
            Pending::Failed(e) => return Err(e),
            Pending::Recover(original, error) => (original, error),
            Pending::Start(input) => {
                let original = pipeline.policy(self.index).keep(&input);
                match self.attempt(pipeline, Call::Process(input), out, rec).await {
                    Ok(()) => {
                        pipeline.policy(self.index).breaker.record_success();
                        return Ok(());
                    }
                    Err(error) => (original, error),
                }
            }
        };
        self.recover(pipeline, original, error, out, rec).await
    }

    /// After a failed first attempt: retries on the retry policy's
    /// schedule, then tells the breaker and hands the final failure to the
    /// `on_failure` fallback.
    async fn recover(
        &mut self,
        pipeline: &Pipeline,
        original: Option<RuntimeData>,
        mut error: NodeError,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), EngineError> {
        let policy = pipeline.policy(self.index);
        let mut retries = policy.retry.start();
        loop {
            out.clear();
            let (Some(input), Some(delay)) = (original.as_ref(), retries.next_delay(&error)) else {
                break;
            };
            self.metrics.retries += 1;
            tracing::warn!(
                node = pipeline.node_id(self.index),
                attempt = retries.attempts(),
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying after a transient error"
            );
            self.reset();
            tokio::time::sleep(delay).await;
            match self.attempt(pipeline, Call::Process(input.clone()), out, rec).await {
                Ok(()) => {
                    policy.breaker.record_success();
                    return Ok(());
                }
                Err(e) => error = e,
            }
        }
        let failure = self.failed(pipeline, error, retries.attempts());
        if policy.breaker.is_open() || policy.on_failure == OnFailure::Fail {
            self.metrics.status = NodeStatus::Failed;
        }
        self.fall_back(policy.on_failure, Lost::Input(original), out, failure)
    }

    /// Flushes the node. Not retried (a reset would lose what it holds); a
    /// node whose breaker is open is not flushed.
    pub(crate) async fn flush(
        &mut self,
        pipeline: &Pipeline,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), EngineError> {
        self.call_once(pipeline, Call::Flush, out, rec).await
    }

    /// Takes the next batch of the outputs the node holds back (see
    /// [`Node::holds_output`]); like a flush, not retried.
    pub(crate) async fn release(
        &mut self,
        pipeline: &Pipeline,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), EngineError> {
        self.call_once(pipeline, Call::Release, out, rec).await
    }

    /// A flush or release: one attempt; on failure, the fallback.
    async fn call_once(
        &mut self,
        pipeline: &Pipeline,
        call: Call,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), EngineError> {
        let policy = pipeline.policy(self.index);
        if policy.breaker.is_open() {
            let open = circuit_open(pipeline, self.index);
            return self.fall_back(policy.on_failure, Lost::Flush, out, open);
        }
        match self.attempt(pipeline, call, out, rec).await {
            Ok(()) => Ok(()),
            Err(error) => {
                out.clear();
                let failure = self.failed(pipeline, error, 1);
                if policy.on_failure == OnFailure::Fail {
                    self.metrics.status = NodeStatus::Failed;
                }
                self.fall_back(policy.on_failure, Lost::Flush, out, failure)
            }
        }
    }

    /// Logs a failed execution (after its retries), tells the breaker, and
    /// makes the run's error.
    #[cold]
    fn failed(&self, pipeline: &Pipeline, error: NodeError, attempts: u32) -> EngineError {
        let node = pipeline.node_id(self.index);
        let policy = pipeline.policy(self.index);
        tracing::warn!(node, attempts, class = %error.class(), error = %error, on_failure = ?policy.on_failure, "node failed");
        policy.breaker.record_failure();
        EngineError::Node {
            node_id: node.to_owned(),
            error,
            attempts,
        }
    }

    /// What downstream gets when the node has failed or is not called.
    fn fall_back(
        &mut self,
        on_failure: OnFailure,
        lost: Lost,
        out: &mut Vec<RuntimeData>,
        failure: EngineError,
    ) -> Result<(), EngineError> {
        match on_failure {
            OnFailure::Fail => Err(failure),
            OnFailure::Skip | OnFailure::Passthrough => {
                if let Lost::Input(input) = lost {
                    self.metrics.skipped += 1;
                    if let (OnFailure::Passthrough, Some(input)) = (on_failure, input) {
                        out.push(input);
                    }
                }
                if self.metrics.status == NodeStatus::Ok {
                    self.metrics.status = NodeStatus::Skipped;
                }
                Ok(())
            }
        }
    }

    /// One attempt: inline, or on a detached thread under the node's
    /// timeout.
    async fn attempt(
        &mut self,
        pipeline: &Pipeline,
        call: Call,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), NodeError> {
        let Some(limit) = pipeline.policy(self.index).timeout else {
            return self.call_inline(pipeline, call, out, rec);
        };
        let node = match self.node.take() {
            Some(n) => n,
            None => build_again(pipeline, self.index, &self.context)?,
        };
        let at = (self.index, pipeline.node_id(self.index));
        let (node, outcome) = attempt::detached(node, call, out, &mut self.metrics, at, rec, limit).await;
        self.node = node;
        self.settle(pipeline, outcome)
    }

    /// Calls the node on this thread.
    fn call_inline(
        &mut self,
        pipeline: &Pipeline,
        call: Call,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), NodeError> {
        if self.node.is_none() {
            self.node = Some(build_again(pipeline, self.index, &self.context)?);
        }
        let node = self.node.as_mut().expect("present").as_mut();
        let outcome = attempt::inline(node, call, out, &mut self.metrics, self.index, rec);
        if outcome.panicked {
            node.reset();
        }
        self.settle(pipeline, outcome)
    }

    /// Logs a caught panic and counts a transient failure (`errors` counts
    /// them all).
    fn settle(&mut self, pipeline: &Pipeline, outcome: Outcome) -> Result<(), NodeError> {
        if outcome.panicked {
            caught_panic(pipeline, self.index, &outcome.result);
        }
        if outcome.result.as_ref().is_err_and(NodeError::is_transient) {
            self.metrics.transient_errors += 1;
        }
        outcome.result
    }
}

/// The error of a node whose breaker refuses the call.
fn circuit_open(pipeline: &Pipeline, index: usize) -> EngineError {
    EngineError::CircuitOpen {
        node_id: pipeline.node_id(index).to_owned(),
    }
}

/// Logs a panic that an attempt caught (its message is the error's).
#[cold]
fn caught_panic(pipeline: &Pipeline, index: usize, result: &Result<(), NodeError>) {
    if let Err(error) = result {
        tracing::error!(node = pipeline.node_id(index), error = %error, "caught a panic; the node was reset");
    }
}

/// A fresh instance of node `index`, replacing one that was abandoned.
fn build_again(pipeline: &Pipeline, index: usize, context: &RunContext) -> Result<Box<dyn Node>, NodeError> {
    pipeline
        .build_node(index, context)
        .map_err(|e| NodeError::fatal(format!("rebuilding the node failed: {e}")))
}
