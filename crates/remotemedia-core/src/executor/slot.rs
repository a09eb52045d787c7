//! One node of a run, with its resilience policy and metrics: the only place
//! a node is actually called.
//!
//! A call goes through, in order: the circuit breaker (open: the
//! `on_failure` policy answers instead of the node); the call itself, inline,
//! or on a detached thread when the node has a `timeout_ms` so that it can
//! be cut off (see [`super::detached`]); panics are caught and become fatal
//! errors; transient errors are retried after the node is reset, with the
//! backoff schedule of its `retry` settings; the final failure is counted by
//! the breaker and handed to the `on_failure` policy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::data::RuntimeData;
use crate::error::{EngineError, NodeError};
use crate::manifest::OnFailure;
use crate::metrics::alloc;
use crate::metrics::{NodeMetrics, NodeStatus, Trace, TraceEvent};
use crate::node::Node;
use crate::overrides::RunContext;
use crate::pipeline::Pipeline;
use crate::resilience::retry_delays;

/// What the run records besides outputs.
pub(crate) struct Recorder<'a> {
    pub(crate) metrics: bool,
    pub(crate) trace: Option<&'a mut Trace>,
    pub(crate) started: Instant,
    pub(crate) live_at_start: u64,
    pub(crate) peak_growth: &'a mut u64,
}

impl Recorder<'_> {
    /// Whether calls are timed: for the metrics, or for the trace's
    /// timeline (which needs the times even without the metrics).
    fn measures(&self) -> bool {
        self.metrics || self.trace.is_some()
    }
}

/// A node instance and its counters.
pub(crate) struct NodeSlot {
    index: usize,
    /// `None` after a call was abandoned at its timeout (it may still be
    /// running on its detached thread); rebuilt from the pipeline's factory
    /// before the next call. A node that panicked is kept and reset.
    node: Option<Box<dyn Node>>,
    /// The run's context, for that rebuild.
    context: RunContext,
    pub(crate) metrics: NodeMetrics,
}

enum Call {
    Process(RuntimeData),
    Flush,
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

    pub(crate) fn reset(&mut self) {
        if let Some(n) = &mut self.node {
            n.reset();
        }
    }

    /// Processes one input with the node's full policy, as far as it can
    /// without waiting: the breaker check and, for a node without a timeout,
    /// the first attempt. Whatever needs the clock (a timeout, a retry's
    /// backoff) is handed back as [`Pending`] for [`Self::finish`]. Keeping
    /// the common case synchronous keeps a hop a plain function call.
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
            let open = EngineError::CircuitOpen {
                node_id: pipeline.node_id(self.index).to_owned(),
            };
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
                self.succeeded(pipeline);
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
        match pending {
            Pending::Failed(e) => Err(e),
            Pending::Recover(original, error) => self.recover(pipeline, original, error, out, rec).await,
            Pending::Start(input) => {
                let policy = pipeline.policy(self.index);
                let original = policy.keep(&input);
                match self
                    .attempt(pipeline, Call::Process(input), out, rec, policy.timeout)
                    .await
                {
                    Ok(()) => {
                        self.succeeded(pipeline);
                        Ok(())
                    }
                    Err(error) => Box::pin(self.recover(pipeline, original, error, out, rec)).await,
                }
            }
        }
    }

    /// After a failed first attempt: retries transient errors on the backoff
    /// schedule, then hands the final failure to the breaker and the
    /// `on_failure` policy.
    async fn recover(
        &mut self,
        pipeline: &Pipeline,
        original: Option<RuntimeData>,
        mut error: NodeError,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), EngineError> {
        let policy = pipeline.policy(self.index);
        let mut delays = retry_delays(&policy.retry);
        let mut attempts = 1;
        loop {
            out.clear();
            let retry = if error.is_transient() {
                delays.next().zip(original.as_ref())
            } else {
                None
            };
            let Some((delay, input)) = retry else { break };
            self.metrics.retries += 1;
            attempts += 1;
            tracing::warn!(
                node = pipeline.node_id(self.index),
                attempt = attempts,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying after a transient error"
            );
            self.reset();
            tokio::time::sleep(delay).await;
            match self
                .attempt(pipeline, Call::Process(input.clone()), out, rec, policy.timeout)
                .await
            {
                Ok(()) => {
                    self.succeeded(pipeline);
                    return Ok(());
                }
                Err(e) => error = e,
            }
        }
        self.failed(pipeline, &error, attempts);
        let failure = EngineError::Node {
            node_id: pipeline.node_id(self.index).to_owned(),
            error,
            attempts,
        };
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
        let policy = pipeline.policy(self.index);
        if policy.breaker.is_open() {
            return self.fall_back(
                policy.on_failure,
                Lost::Flush,
                out,
                EngineError::CircuitOpen {
                    node_id: pipeline.node_id(self.index).to_owned(),
                },
            );
        }
        match self.attempt(pipeline, Call::Flush, out, rec, policy.timeout).await {
            Ok(()) => Ok(()),
            Err(error) => {
                out.clear();
                self.failed(pipeline, &error, 1);
                let failure = EngineError::Node {
                    node_id: pipeline.node_id(self.index).to_owned(),
                    error,
                    attempts: 1,
                };
                if policy.on_failure == OnFailure::Fail {
                    self.metrics.status = NodeStatus::Failed;
                }
                self.fall_back(policy.on_failure, Lost::Flush, out, failure)
            }
        }
    }

    /// Tells the breaker of a success (and the log, when that closed it).
    #[inline]
    fn succeeded(&self, pipeline: &Pipeline) {
        if pipeline.policy(self.index).breaker.record_success() {
            breaker_closed(pipeline, self.index);
        }
    }

    /// Logs a failed execution (after its retries) and tells the breaker.
    #[cold]
    fn failed(&self, pipeline: &Pipeline, error: &NodeError, attempts: u32) {
        let node = pipeline.node_id(self.index);
        let policy = pipeline.policy(self.index);
        tracing::warn!(node, attempts, class = %error.class(), error = %error, on_failure = ?policy.on_failure, "node failed");
        if policy.breaker.record_failure() {
            tracing::error!(
                node,
                "circuit breaker opened: the node is not called until its cool-down ends"
            );
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

    /// One attempt: inline, or on a detached thread under a timeout.
    async fn attempt(
        &mut self,
        pipeline: &Pipeline,
        call: Call,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
        timeout: Option<Duration>,
    ) -> Result<(), NodeError> {
        match timeout {
            None => self.call_inline(pipeline, call, out, rec),
            Some(limit) => self.call_detached(pipeline, call, out, rec, limit).await,
        }
    }

    /// The node, rebuilt if an abandoned call took it.
    fn take_node(&mut self, pipeline: &Pipeline) -> Result<Box<dyn Node>, NodeError> {
        match self.node.take() {
            Some(n) => Ok(n),
            None => build_again(pipeline, self.index, &self.context),
        }
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
        let (result, panicked) = if rec.measures() {
            let live_before = alloc::live_bytes();
            let start = Instant::now();
            let (outcome, peak) = alloc::measure(|| run_guarded(node, call, out));
            record(
                &mut self.metrics,
                self.index,
                rec,
                start,
                live_before,
                peak,
                outcome.0.is_err(),
            );
            outcome
        } else {
            let outcome = run_guarded(node, call, out);
            if outcome.0.is_err() {
                self.metrics.errors += 1;
            }
            outcome
        };
        if panicked {
            caught_panic(pipeline, self.index, &result);
            node.reset();
        }
        self.count_class(&result);
        result
    }

    /// Calls the node on a detached thread and waits at most `limit`; a call
    /// still running then is abandoned with its node instance, and nothing
    /// ever waits for it (not the run, not the runtime's shutdown, not the
    /// process's exit).
    async fn call_detached(
        &mut self,
        pipeline: &Pipeline,
        call: Call,
        out: &mut Vec<RuntimeData>,
        rec: &mut Recorder<'_>,
        limit: Duration,
    ) -> Result<(), NodeError> {
        let mut node = self.take_node(pipeline)?;
        let live_before = alloc::live_bytes();
        let start = Instant::now();
        let task = super::detached::spawn(move || {
            let mut local = Vec::new();
            let ((result, panicked), peak) = alloc::measure(|| run_guarded(node.as_mut(), call, &mut local));
            if panicked {
                node.reset();
            }
            (node, result, local, peak, panicked)
        });
        let (result, peak) = match tokio::time::timeout(limit, task).await {
            Err(_) => {
                tracing::warn!(
                    node = pipeline.node_id(self.index),
                    timeout_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                    "call timed out; abandoned"
                );
                (
                    Err(NodeError::transient(format!(
                        "timed out after {} ms",
                        limit.as_millis()
                    ))),
                    0,
                )
            }
            Ok(Err(_)) => (
                Err(NodeError::fatal("the node's call thread could not start or died")),
                0,
            ),
            Ok(Ok((node, result, local, peak, panicked))) => {
                if panicked {
                    caught_panic(pipeline, self.index, &result);
                }
                self.node = Some(node);
                out.extend(local);
                (result, peak)
            }
        };
        if rec.measures() {
            record(
                &mut self.metrics,
                self.index,
                rec,
                start,
                live_before,
                peak,
                result.is_err(),
            );
        } else if result.is_err() {
            self.metrics.errors += 1;
        }
        self.count_class(&result);
        result
    }

    /// Counts a transient failure (`errors` counts them all).
    fn count_class(&mut self, result: &Result<(), NodeError>) {
        if result.as_ref().is_err_and(NodeError::is_transient) {
            self.metrics.transient_errors += 1;
        }
    }
}

/// Logs a breaker that a success closed.
#[cold]
fn breaker_closed(pipeline: &Pipeline, index: usize) {
    tracing::info!(node = pipeline.node_id(index), "circuit breaker closed");
}

/// Logs a panic that [`run_guarded`] caught (its message is the error's).
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

/// Records one call's time, memory, error and trace event.
fn record(
    metrics: &mut NodeMetrics,
    index: usize,
    rec: &mut Recorder<'_>,
    start: Instant,
    live_before: u64,
    peak: u64,
    failed: bool,
) {
    let elapsed = start.elapsed().as_nanos() as u64;
    metrics.record_call(elapsed, peak);
    if failed {
        metrics.errors += 1;
    }
    let growth = (live_before + peak).saturating_sub(rec.live_at_start);
    *rec.peak_growth = (*rec.peak_growth).max(growth);
    if let Some(trace) = rec.trace.as_deref_mut() {
        trace.push(TraceEvent {
            node: index,
            start_ns: start.duration_since(rec.started).as_nanos() as u64,
            duration_ns: elapsed,
            failed,
        });
    }
}

/// Calls the node, turning a panic into a fatal error carrying its message.
/// The flag is true when the node panicked: its stream state can no longer
/// be trusted, so the caller resets it (the contract of [`Node::reset`] is to
/// restore a fresh state).
fn run_guarded(node: &mut dyn Node, call: Call, out: &mut Vec<RuntimeData>) -> (Result<(), NodeError>, bool) {
    let outcome = crate::panic::catching(|| match call {
        Call::Process(input) => node.process(input, out),
        Call::Flush => node.flush(out),
    });
    match outcome {
        Ok(result) => (result, false),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_owned());
            (Err(NodeError::fatal(format!("node panicked: {message}"))), true)
        }
    }
}

/// The resilience settings of one node, resolved from its manifest entry.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) retry: crate::manifest::RetryConfig,
    pub(crate) timeout: Option<Duration>,
    pub(crate) on_failure: OnFailure,
    pub(crate) breaker: Arc<crate::resilience::Breaker>,
}

impl Policy {
    /// A copy of the input, kept when a retry or `passthrough` may need it
    /// after the node has consumed the original (for audio, a pointer copy).
    fn keep(&self, input: &RuntimeData) -> Option<RuntimeData> {
        (self.retry.max_retries > 0 || self.on_failure == OnFailure::Passthrough).then(|| input.clone())
    }
}
