//! Streaming sessions: push chunks in, receive outputs as they are produced.
//!
//! How a session ends (the contract of [`Session`]): closing its input
//! drains it (every accepted chunk goes through the graph, then the nodes
//! are flushed); dropping it, or its receiver, before the end cancels it
//! (the session's task stops at its next step and its nodes are freed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::live::{LiveSession, Publication, RunCounts};
use super::queue::{InputQueue, TryPush};
use super::run::{GraphRun, RunOptions, SinkOutput};
use crate::data::RuntimeData;
use crate::error::EngineError;
use crate::metrics::PipelineMetrics;

/// Settings of a streaming session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Inputs that may wait before [`SessionSender::send`] waits too.
    pub input_capacity: usize,
    /// Outputs that may wait for the receiver before the session stops
    /// processing (and so, in turn, the sender waits).
    pub output_capacity: usize,
    /// What the session records (metrics, trace).
    pub run: RunOptions,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            input_capacity: 16,
            output_capacity: 64,
            run: RunOptions::default(),
        }
    }
}

/// What a finished session measured.
#[derive(Debug, Default)]
struct Summary {
    metrics: Option<PipelineMetrics>,
    trace_json: Option<String>,
    trace_error: Option<String>,
}

enum Command {
    Push(RuntimeData),
    PushTo(String, RuntimeData),
    Reset,
}

impl Command {
    /// Chunks may be dropped by a lossy send; control commands may not.
    fn is_chunk(&self) -> bool {
        !matches!(self, Self::Reset)
    }
}

/// The sending half of a session. Clones send into the same session; the
/// session ends when the last one is dropped.
#[derive(Debug)]
pub struct SessionSender {
    queue: Arc<InputQueue<Command>>,
}

impl Clone for SessionSender {
    fn clone(&self) -> Self {
        self.queue.add_sender();
        Self {
            queue: Arc::clone(&self.queue),
        }
    }
}

impl Drop for SessionSender {
    fn drop(&mut self) {
        self.queue.remove_sender();
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Push(_) => "Push",
            Self::PushTo(..) => "PushTo",
            Self::Reset => "Reset",
        })
    }
}

impl SessionSender {
    /// Pushes a chunk into every source node; waits while the session's
    /// input queue is full (backpressure).
    pub async fn send(&self, input: RuntimeData) -> Result<(), EngineError> {
        self.command(Command::Push(input)).await
    }

    /// Pushes a chunk into one source node.
    pub async fn send_to(&self, source_id: &str, input: RuntimeData) -> Result<(), EngineError> {
        self.command(Command::PushTo(source_id.to_owned(), input)).await
    }

    /// For a live source that cannot wait: pushes a chunk at once, and if
    /// the input queue is full drops the oldest chunk waiting in it to make
    /// room. Dropped chunks are counted in the session's metrics
    /// (`pipeline.dropped_inputs`). Stateful nodes see a gap in the stream,
    /// as they would from a lossy network.
    pub fn send_or_drop_oldest(&self, input: RuntimeData) -> Result<(), EngineError> {
        self.queue
            .push_or_drop_oldest(Command::Push(input), Command::is_chunk)
            .map_err(|_| EngineError::SessionClosed)
    }

    /// Pushes a chunk if the input queue has room now, without waiting;
    /// otherwise hands it back. For callers that poll (an event loop of
    /// another runtime) rather than await.
    pub fn try_send(&self, input: RuntimeData) -> Result<(), TrySendError> {
        self.queue.try_push(Command::Push(input)).map_err(|e| match e {
            TryPush::Full(Command::Push(input)) => TrySendError::Full(input),
            TryPush::Closed(Command::Push(input)) => TrySendError::Closed(input),
            _ => unreachable!("a chunk goes in, a chunk comes back"),
        })
    }

    /// Chunks dropped so far by [`Self::send_or_drop_oldest`].
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Drops the stream state of every node (a discontinuity), without
    /// flushing.
    pub async fn reset(&self) -> Result<(), EngineError> {
        self.command(Command::Reset).await
    }

    async fn command(&self, c: Command) -> Result<(), EngineError> {
        self.queue.push(c).await.map_err(|_| EngineError::SessionClosed)
    }
}

/// The receiving half of a session. Dropping it before the session has
/// ended cancels the session (see [`Session`]).
#[derive(Debug)]
pub struct SessionReceiver {
    rx: mpsc::Receiver<Result<SinkOutput, EngineError>>,
    summary: Arc<Mutex<Summary>>,
    live: LiveSession,
    cancel: CancellationToken,
    /// Outputs [`Self::drain`] received for nobody.
    discarded: u64,
}

impl Drop for SessionReceiver {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Why [`SessionSender::try_send`] did not take a chunk; the chunk is
/// handed back.
#[derive(Debug)]
pub enum TrySendError {
    /// The input queue is full: try again once outputs have been read.
    Full(RuntimeData),
    /// The session has ended.
    Closed(RuntimeData),
}

/// What [`SessionReceiver::try_recv`] found.
#[derive(Debug)]
pub enum TryRecv {
    /// An output (or the error that ended the session).
    Ready(Result<SinkOutput, EngineError>),
    /// Nothing yet; the session is still running.
    Empty,
    /// The session has ended and every output was delivered.
    Ended,
}

impl SessionReceiver {
    /// The next output if one is ready, without waiting.
    pub fn try_recv(&mut self) -> TryRecv {
        match self.rx.try_recv() {
            Ok(item) => TryRecv::Ready(item),
            Err(mpsc::error::TryRecvError::Empty) => TryRecv::Empty,
            Err(mpsc::error::TryRecvError::Disconnected) => TryRecv::Ended,
        }
    }

    /// The session's metrics now, while it runs or after it ended: see
    /// [`LiveSession::snapshot`] (blocks up to [`super::SNAPSHOT_WAIT`]; call
    /// it off the session's runtime thread).
    pub fn metrics_snapshot(&self) -> Option<PipelineMetrics> {
        self.live.snapshot()
    }

    /// A handle on the session's live metrics, for another thread.
    pub fn live(&self) -> LiveSession {
        self.live.clone()
    }

    /// The session's metrics, once it has ended (after [`Self::recv`]
    /// returned `None`), with the outputs [`Self::drain`] discarded.
    pub fn metrics(&self) -> Option<PipelineMetrics> {
        let mut metrics = self.lock().metrics.clone()?;
        metrics.pipeline.discarded_outputs = self.discarded;
        Some(metrics)
    }

    /// Waits for the end of the session, dropping the outputs that arrive
    /// meanwhile (counted in the metrics as `pipeline.discarded_outputs`).
    /// Returns the error that ended the session, if one did.
    pub async fn drain(&mut self) -> Result<(), EngineError> {
        let mut failure = Ok(());
        while let Some(item) = self.rx.recv().await {
            match item {
                Ok(_) => self.discarded += 1,
                Err(e) => failure = Err(e),
            }
        }
        failure
    }

    /// Cancels the session: its task stops at its next step (a node call in
    /// progress completes; waiting chunks are dropped and the nodes are not
    /// flushed). Outputs already produced can still be received, then
    /// [`Self::recv`] returns `None`, and [`Self::metrics`] has the figures
    /// up to the cancellation.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The session's call timeline as Chrome trace-event JSON, once it has
    /// ended, when [`RunOptions::trace`] was set and the trace was kept in
    /// memory (not streamed, see [`crate::GraphRun::trace_to`]).
    pub fn trace_json(&self) -> Option<String> {
        self.lock().trace_json.clone()
    }

    /// Once the session has ended: why its streamed trace could not be
    /// written in full, if it could not.
    pub fn trace_error(&self) -> Option<String> {
        self.lock().trace_error.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Summary> {
        self.summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next output; `None` once the session has been closed and flushed
    /// (or has stopped after an error, which is delivered first).
    pub async fn recv(&mut self) -> Option<Result<SinkOutput, EngineError>> {
        self.rx.recv().await
    }

    /// [`Self::recv`] for callers that drive the session from their own
    /// event loop: `Ready` with what `recv` would return, or `Pending`, in
    /// which case `cx`'s waker is woken when an output (or the end) arrives.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<SinkOutput, EngineError>>> {
        self.rx.poll_recv(cx)
    }
}

/// A live run of a pipeline: chunks go in, outputs come out as they are
/// produced.
///
/// How it ends:
///
/// - **Closed: drained.** [`Self::close`] (or dropping every
///   [`SessionSender`] of a split session) ends the input: every chunk a send
///   accepted still goes through the graph, the nodes are flushed, the last
///   outputs are delivered, then [`Self::recv`] returns `None`.
///   [`Self::finish`] closes and waits for all that, dropping the outputs
///   nobody received (counted as `pipeline.discarded_outputs`).
/// - **Dropped: cancelled.** Dropping the session (or its
///   [`SessionReceiver`]) before its end cancels it: its task stops at its
///   next step — the node call in progress completes (a call under
///   `timeout_ms` is abandoned), no other node is called for the chunks
///   waiting, which are dropped, nor flushed — then the task ends and the
///   nodes are freed. [`SessionReceiver::cancel`] does the same but keeps
///   the outputs already produced and the metrics.
///
/// The queues in and out are bounded ([`SessionConfig`]): a consumer that
/// stops reading makes the session wait, which makes the producer wait, so
/// memory stays bounded.
#[derive(Debug)]
pub struct Session {
    // Dropped first: cancelling before the input closes, so a dropped
    // session never starts draining.
    receiver: SessionReceiver,
    sender: Option<SessionSender>,
}

impl Session {
    /// Starts a session for `run` on the current tokio runtime. Its log
    /// events (opened, closed, and those of its nodes) are in a `session`
    /// span whose `id` numbers the sessions of the process.
    pub fn spawn(run: GraphRun, config: SessionConfig) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let queue = Arc::new(InputQueue::new(config.input_capacity));
        let (out_tx, out_rx) = mpsc::channel(config.output_capacity.max(1));
        let summary = Arc::new(Mutex::new(Summary::default()));
        let span = tracing::info_span!("session", id = NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let live = LiveSession::open(Arc::clone(run.pipeline()));
        let cancel = CancellationToken::new();
        let task = drive(
            run,
            Arc::clone(&queue),
            out_tx,
            Arc::clone(&summary),
            config.run,
            live.clone(),
            cancel.clone(),
        );
        tokio::spawn(task.instrument(span));
        Self {
            receiver: SessionReceiver {
                rx: out_rx,
                summary,
                live,
                cancel,
                discarded: 0,
            },
            sender: Some(SessionSender { queue }),
        }
    }

    /// Pushes a chunk (see [`SessionSender::send`]).
    pub async fn send(&self, input: RuntimeData) -> Result<(), EngineError> {
        match &self.sender {
            Some(s) => s.send(input).await,
            None => Err(EngineError::SessionClosed),
        }
    }

    /// The next output (see [`SessionReceiver::recv`]).
    pub async fn recv(&mut self) -> Option<Result<SinkOutput, EngineError>> {
        self.receiver.recv().await
    }

    /// The session's metrics once it has ended (see
    /// [`SessionReceiver::metrics`]).
    pub fn metrics(&self) -> Option<PipelineMetrics> {
        self.receiver.metrics()
    }

    /// Closes the input side; the remaining outputs, then `None`, follow.
    pub fn close(&mut self) {
        self.sender = None;
    }

    /// Closes the input and returns once every chunk a send accepted has
    /// gone through the graph and the nodes were flushed. Outputs not yet
    /// received are dropped and counted in [`Self::metrics`] as
    /// `pipeline.discarded_outputs`. Returns the error that ended the
    /// session early, if one did (the session then stopped at it).
    pub async fn finish(&mut self) -> Result<(), EngineError> {
        self.close();
        self.receiver.drain().await
    }

    /// Splits into halves that can live in different tasks.
    pub fn split(self) -> (SessionSender, SessionReceiver) {
        (self.sender.expect("session is not closed"), self.receiver)
    }
}

async fn drive(
    mut run: GraphRun,
    queue: Arc<InputQueue<Command>>,
    out: mpsc::Sender<Result<SinkOutput, EngineError>>,
    summary: Arc<Mutex<Summary>>,
    options: RunOptions,
    live: LiveSession,
    cancel: CancellationToken,
) {
    tracing::info!(
        input_capacity = queue.capacity(),
        output_capacity = out.max_capacity(),
        "session opened"
    );
    let counts = drive_run(&mut run, &queue, &out, &live, &cancel).await;
    live.close(publication(&run, &queue, &counts));
    tracing::info!(
        chunks_in = counts.chunks_in,
        chunks_out = counts.chunks_out,
        dropped = queue.dropped(),
        error = counts.error.as_deref(),
        cancelled = counts.cancelled,
        "session closed"
    );
    // Senders still pushing learn at once that nobody will read.
    queue.close_reader();
    let mut s = summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    s.metrics = options.metrics.then(|| {
        let mut m = run.metrics();
        m.pipeline.dropped_inputs = queue.dropped();
        m
    });
    s.trace_error = run.finish_trace().err().map(|e| e.to_string());
    s.trace_json = run.keeps_trace().then(|| run.trace_json());
    // `out` drops after the summary is stored, so a receiver that saw the
    // end of the stream always finds it.
    drop(s);
    drop(out);
}

/// What a session's run went through, for its closing log line.
#[derive(Default)]
struct Counts {
    chunks_in: u64,
    chunks_out: u64,
    error: Option<String>,
    cancelled: bool,
}

/// Runs commands until the input ends (then flushes), an error ends the
/// session, nobody listens any more, or the session is cancelled: a
/// cancellation is seen before each command and at every wait inside one.
async fn drive_run(
    run: &mut GraphRun,
    queue: &InputQueue<Command>,
    out: &mpsc::Sender<Result<SinkOutput, EngineError>>,
    live: &LiveSession,
    cancel: &CancellationToken,
) -> Counts {
    let mut emitted = Vec::new();
    let mut counts = Counts::default();
    loop {
        let command = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            () = live.requested() => {
                live.publish(publication(run, queue, &counts));
                continue;
            }
            command = queue.pop() => Some(command),
        };
        let go_on = match command {
            Some(command) => tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                go_on = step(run, command, out, &mut emitted, &mut counts) => Some(go_on),
            },
            None => None,
        };
        match go_on {
            Some(true) => {}
            Some(false) => return counts,
            None => {
                counts.cancelled = true;
                return counts;
            }
        }
    }
}

/// Runs one command (`None`: the input ended) and delivers what it
/// produced. Returns false when the session ends.
async fn step(
    run: &mut GraphRun,
    command: Option<Command>,
    out: &mpsc::Sender<Result<SinkOutput, EngineError>>,
    emitted: &mut Vec<SinkOutput>,
    counts: &mut Counts,
) -> bool {
    let (result, last) = match command {
        Some(Command::Push(input)) => {
            counts.chunks_in += 1;
            let pushed = run.push_step(input, emitted).await;
            if pushed.is_ok() {
                // Outputs a node holds back (many from one input) are
                // handed on a batch at a time, each waiting for room.
                loop {
                    counts.chunks_out += emitted.len() as u64;
                    if !deliver(out, emitted, Ok(())).await {
                        return false;
                    }
                    match run.release(emitted).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            counts.chunks_out += emitted.len() as u64;
                            counts.error = Some(e.to_string());
                            deliver(out, emitted, Err(e)).await;
                            return false;
                        }
                    }
                }
            }
            (pushed, false)
        }
        Some(Command::PushTo(id, input)) => {
            counts.chunks_in += 1;
            (run.push_to(&id, input, emitted).await, false)
        }
        Some(Command::Reset) => {
            run.reset();
            (Ok(()), false)
        }
        None => {
            // Sources that release their output a step at a time (a file
            // reader) hand each step on before the next.
            loop {
                match run.produce(emitted).await {
                    Ok(true) => {
                        counts.chunks_out += emitted.len() as u64;
                        if !deliver(out, emitted, Ok(())).await {
                            return false;
                        }
                    }
                    Ok(false) => break,
                    Err(e) => {
                        counts.chunks_out += emitted.len() as u64;
                        counts.error = Some(e.to_string());
                        deliver(out, emitted, Err(e)).await;
                        return false;
                    }
                }
            }
            (run.flush(emitted).await, true)
        }
    };
    counts.chunks_out += emitted.len() as u64;
    if let Err(e) = &result {
        counts.error = Some(e.to_string());
    }
    deliver(out, emitted, result).await && !last
}

/// What the session has measured so far.
fn publication(run: &GraphRun, queue: &InputQueue<Command>, counts: &Counts) -> Publication {
    let mut publication = Publication::of(
        run,
        RunCounts {
            chunks_in: counts.chunks_in,
            chunks_out: counts.chunks_out,
            dropped: queue.dropped(),
        },
    );
    if let Some(report) = &mut publication.report {
        report.pipeline.dropped_inputs = queue.dropped();
    }
    publication
}

/// Sends what one step emitted, then its error if any. Returns false when
/// the session must end (an error, or nobody is listening any more).
async fn deliver(
    out: &mpsc::Sender<Result<SinkOutput, EngineError>>,
    emitted: &mut Vec<SinkOutput>,
    result: Result<(), EngineError>,
) -> bool {
    for o in emitted.drain(..) {
        if out.send(Ok(o)).await.is_err() {
            return false;
        }
    }
    match result {
        Ok(()) => true,
        Err(e) => {
            let _ = out.send(Err(e)).await;
            false
        }
    }
}
