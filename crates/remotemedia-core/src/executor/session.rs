//! Streaming sessions: push chunks in, receive outputs as they are produced.

use tokio::sync::mpsc;

use super::run::{GraphRun, SinkOutput};
use crate::data::RuntimeData;
use crate::error::EngineError;

/// Settings of a streaming session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Inputs that may wait before [`SessionSender::send`] waits too.
    pub input_capacity: usize,
    /// Outputs that may wait for the receiver before the session stops
    /// processing (and so, in turn, the sender waits).
    pub output_capacity: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            input_capacity: 16,
            output_capacity: 64,
        }
    }
}

enum Command {
    Push(RuntimeData),
    PushTo(String, RuntimeData),
    Reset,
}

/// The sending half of a session.
#[derive(Debug, Clone)]
pub struct SessionSender {
    tx: mpsc::Sender<Command>,
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

    /// Drops the stream state of every node (a discontinuity), without
    /// flushing.
    pub async fn reset(&self) -> Result<(), EngineError> {
        self.command(Command::Reset).await
    }

    async fn command(&self, c: Command) -> Result<(), EngineError> {
        self.tx.send(c).await.map_err(|_| EngineError::SessionClosed)
    }
}

/// The receiving half of a session.
#[derive(Debug)]
pub struct SessionReceiver {
    rx: mpsc::Receiver<Result<SinkOutput, EngineError>>,
}

impl SessionReceiver {
    /// The next output; `None` once the session has been closed and flushed
    /// (or has stopped after an error, which is delivered first).
    pub async fn recv(&mut self) -> Option<Result<SinkOutput, EngineError>> {
        self.rx.recv().await
    }
}

/// A live run of a pipeline: chunks go in, outputs come out as they are
/// produced. Dropping every [`SessionSender`] closes the session: it flushes
/// its nodes, delivers the last outputs and ends. Dropping the receiver
/// cancels it.
///
/// The queues in and out are bounded ([`SessionConfig`]): a consumer that
/// stops reading makes the session wait, which makes the producer wait, so
/// memory stays bounded.
#[derive(Debug)]
pub struct Session {
    sender: Option<SessionSender>,
    receiver: SessionReceiver,
}

impl Session {
    /// Starts a session for `run` on the current tokio runtime.
    pub fn spawn(run: GraphRun, config: SessionConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.input_capacity.max(1));
        let (out_tx, out_rx) = mpsc::channel(config.output_capacity.max(1));
        tokio::spawn(drive(run, rx, out_tx));
        Self {
            sender: Some(SessionSender { tx }),
            receiver: SessionReceiver { rx: out_rx },
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

    /// Closes the input side; the remaining outputs, then `None`, follow.
    pub fn close(&mut self) {
        self.sender = None;
    }

    /// Splits into halves that can live in different tasks.
    pub fn split(self) -> (SessionSender, SessionReceiver) {
        (self.sender.expect("session is not closed"), self.receiver)
    }
}

async fn drive(mut run: GraphRun, mut rx: mpsc::Receiver<Command>, out: mpsc::Sender<Result<SinkOutput, EngineError>>) {
    let mut emitted = Vec::new();
    loop {
        let result = match rx.recv().await {
            Some(Command::Push(input)) => run.push(input, &mut emitted).await,
            Some(Command::PushTo(id, input)) => run.push_to(&id, input, &mut emitted).await,
            Some(Command::Reset) => {
                run.reset();
                Ok(())
            }
            None => {
                let result = run.flush(&mut emitted).await;
                deliver(&out, &mut emitted, result).await;
                return;
            }
        };
        if !deliver(&out, &mut emitted, result).await {
            return;
        }
    }
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
