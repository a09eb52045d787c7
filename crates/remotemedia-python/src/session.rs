//! Streaming sessions for asyncio: the engine's [`Session`] (bounded queues,
//! driven by a task on the global tokio runtime), polled from the Python
//! event loop.
//!
//! Nothing here blocks the calling thread and no tokio thread ever takes the
//! GIL. `send` and `recv` poll the session's futures once, with a waker that
//! writes a byte to a socket the event loop watches (`fileno()`, registered
//! with `loop.add_reader` by `remotemedia.core.session`). A future that is
//! not ready is kept (`send`) or re-polled (`recv`) when that byte arrives:
//! no busy-waiting, no thread hand-off on the Python side, and a full queue
//! makes `await session.send(...)` wait (backpressure).
//!
//! **Shape.** A session is one stream, with one shape: its first audio chunk
//! decides whether mono audio reaches its Python nodes and comes back 1-D
//! (sent 1-D) or 2-D (sent `(1, frames)`), for the whole session. Later
//! chunks may be given either way; they do not change it (an output need not
//! come from one chunk: a resampler's or a VAD's spans chunks, and outputs
//! trail the chunks queued behind them). Before the first audio chunk,
//! mono audio is 2-D. Other sessions of the same pipeline have their own.

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use remotemedia_core::{EngineError, GraphRun, RunOptions, Session, SessionConfig, SessionReceiver, SessionSender};

use crate::convert::{data_from_py, data_to_py, json_to_py};
use crate::errors::Error;
use crate::lock::record_copies;
use crate::run_state::RunState;
use crate::{interrupt, runtime};

/// A send waiting for room in the session's input queue.
type PendingSend = Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send>>;

/// Wakes the Python event loop: one byte on a non-blocking socket. A full
/// socket already holds a wake-up, so that write may fail harmlessly.
struct SocketWaker(UnixStream);

impl Wake for SocketWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let _ = (&self.0).write(&[1]);
    }
}

struct State {
    sender: Option<SessionSender>,
    /// `None` once the session was cancelled.
    receiver: Option<SessionReceiver>,
    sending: Option<PendingSend>,
    /// True once an audio chunk has fixed the session's shape.
    shape_fixed: bool,
    /// Chunks whose samples were copied rather than borrowed.
    copied: usize,
    ended: bool,
}

/// A streaming session over a [`crate::NativePipeline`], for asyncio.
///
/// Made by `NativePipeline.open_session()`; wrapped by the SDK's
/// `StreamSession`, which turns the polling protocol into `await send`,
/// `await recv` and `close`.
#[pyclass(frozen, module = "remotemedia._native")]
pub struct NativeSession {
    state: Mutex<State>,
    waker: Waker,
    wake_reader: UnixStream,
    /// The session's shape, shared with its Python nodes only.
    shape: Arc<RunState>,
}

impl NativeSession {
    /// Starts a session of `run` on the global runtime; `shape` is the one
    /// lent to the Python nodes of `run`.
    pub fn start(
        run: GraphRun,
        input_capacity: usize,
        output_capacity: usize,
        shape: Arc<RunState>,
    ) -> std::io::Result<Self> {
        let (wake_reader, wake_writer) = UnixStream::pair()?;
        wake_reader.set_nonblocking(true)?;
        wake_writer.set_nonblocking(true)?;
        let config = SessionConfig {
            input_capacity,
            output_capacity,
            run: RunOptions::default(),
        };
        let session = {
            let _entered = runtime::get().enter();
            Session::spawn(run, config)
        };
        let (sender, receiver) = session.split();
        Ok(Self {
            state: Mutex::new(State {
                sender: Some(sender),
                receiver: Some(receiver),
                sending: None,
                shape_fixed: false,
                copied: 0,
                ended: false,
            }),
            waker: Waker::from(Arc::new(SocketWaker(wake_writer))),
            wake_reader,
            shape,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Polls the waiting send once: true when it is done.
    fn poll_sending(&self, py: Python<'_>, state: &mut State) -> PyResult<bool> {
        let Some(fut) = state.sending.as_mut() else {
            return Ok(true);
        };
        match fut.as_mut().poll(&mut Context::from_waker(&self.waker)) {
            Poll::Pending => Ok(false),
            Poll::Ready(result) => {
                state.sending = None;
                result.map_err(|e| Error::from(e).into_py(py))?;
                Ok(true)
            }
        }
    }
}

#[pymethods]
impl NativeSession {
    /// Queues one chunk. True when it was taken at once; false when the
    /// input queue is full: the chunk is held, and `poll_send()` finishes
    /// the send after the wake-up socket becomes readable. One send may
    /// wait at a time. The first audio chunk fixes the session's shape.
    fn send(&self, py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<bool> {
        let input = data_from_py(item)?;
        let mut state = self.lock();
        state.copied += usize::from(input.copied);
        if state.sending.is_some() {
            return Err(PyRuntimeError::new_err("a send is already waiting on this session"));
        }
        let Some(sender) = state.sender.clone() else {
            return Err(Error::from(EngineError::SessionClosed).into_py(py));
        };
        if input.array.is_some() && !state.shape_fixed {
            state.shape_fixed = true;
            self.shape.set_one_dimensional(input.one_dimensional);
        }
        let data = input.data;
        state.sending = Some(Box::pin(async move { sender.send(data).await }));
        self.poll_sending(py, &mut state)
    }

    /// Finishes the waiting send if there is room now; true when done (or
    /// when no send was waiting).
    fn poll_send(&self, py: Python<'_>) -> PyResult<bool> {
        let mut state = self.lock();
        self.poll_sending(py, &mut state)
    }

    /// Gives up the waiting send, if any (its chunk is dropped).
    fn cancel_send(&self) {
        let pending = self.lock().sending.take();
        drop(pending);
    }

    /// The next output if one is ready: `(output,)`; `()` once the session
    /// has ended (closed and flushed); `None` when nothing is ready yet (the
    /// wake-up socket becomes readable when something is). A node failure is
    /// raised as `NodeError`, once; the session has ended then.
    fn recv<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let mut state = self.lock();
        let ended = state.ended;
        let Some(receiver) = state.receiver.as_mut().filter(|_| !ended) else {
            return Ok(Some(PyTuple::empty(py)));
        };
        match receiver.poll_recv(&mut Context::from_waker(&self.waker)) {
            Poll::Pending => Ok(None),
            Poll::Ready(None) => {
                state.ended = true;
                Ok(Some(PyTuple::empty(py)))
            }
            Poll::Ready(Some(Err(e))) => {
                state.ended = true;
                Err(Error::from(e).into_py(py))
            }
            Poll::Ready(Some(Ok(output))) => {
                drop(state);
                let value = data_to_py(py, &output.data, self.shape.one_dimensional(), None)?;
                Ok(Some(PyTuple::new(py, [value])?))
            }
        }
    }

    /// Ends the input: the session flushes its nodes, and `recv` delivers
    /// the last outputs, then `()`. A send still waiting is dropped.
    fn close(&self) {
        let (sender, sending) = {
            let mut state = self.lock();
            (state.sender.take(), state.sending.take())
        };
        drop((sender, sending));
    }

    /// Cancels the session: its Python node calls are interrupted, the
    /// engine stops at its next wait, waiting chunks and unread outputs are
    /// dropped, and `recv` returns `()`. No metrics are kept.
    fn cancel(&self, py: Python<'_>) {
        interrupt::cancel_run(py, &self.shape);
        let dropped = {
            let mut state = self.lock();
            state.ended = true;
            // The receiver first: dropping it cancels the session, before
            // the sender's drop could start a drain.
            (state.receiver.take(), state.sender.take(), state.sending.take())
        };
        drop(dropped);
    }

    /// True once `recv` has seen the end of the session.
    #[getter]
    fn ended(&self) -> bool {
        self.lock().ended
    }

    /// The wake-up socket's file descriptor, for `loop.add_reader`.
    fn fileno(&self) -> i32 {
        self.wake_reader.as_raw_fd()
    }

    /// Empties the wake-up socket (call it when it is readable).
    fn clear_wake(&self) -> PyResult<()> {
        let mut buf = [0u8; 256];
        loop {
            match (&self.wake_reader).read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(PyOSError::new_err(e.to_string())),
            }
        }
    }

    /// The engine's metrics of the session once it has ended, else `None`.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (metrics, copied) = {
            let state = self.lock();
            (state.receiver.as_ref().and_then(SessionReceiver::metrics), state.copied)
        };
        match metrics.and_then(|m| serde_json::to_value(m).ok()) {
            Some(mut v) => {
                record_copies(&mut v, copied);
                json_to_py(py, &v)
            }
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// The engine's metrics of the session now: live while it runs (the
    /// session publishes them at its next step; waited for with the GIL
    /// released), final once it has ended; `None` once cancelled.
    fn metrics_snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (live, copied) = {
            let state = self.lock();
            (state.receiver.as_ref().map(SessionReceiver::live), state.copied)
        };
        let metrics = live.and_then(|live| py.detach(|| live.snapshot()));
        match metrics.and_then(|m| serde_json::to_value(m).ok()) {
            Some(mut v) => {
                record_copies(&mut v, copied);
                json_to_py(py, &v)
            }
            None => Ok(py.None().into_bound(py)),
        }
    }
}
