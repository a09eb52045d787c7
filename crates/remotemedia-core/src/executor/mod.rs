//! Running a compiled pipeline: a graph walk shared by batch runs and
//! streaming sessions.
//!
//! Every input is walked through the whole graph in topological order inside
//! one task: a hop from one node to the next is a function call and a push
//! onto a reused buffer, not a channel send. Fan-out clones
//! [`RuntimeData`](crate::RuntimeData), which shares sample buffers. Batch
//! runs and sessions use the same walk, so a batch run's outputs are exactly
//! the concatenation of a session's.

mod attempt;
mod clip;
mod detached;
mod live;
mod queue;
mod run;
mod session;
mod slot;

pub(crate) use clip::Clip;
pub use live::{LiveSession, LiveView, RunCounts, SNAPSHOT_WAIT, Totals, live_view};
pub use run::{GraphRun, RunOptions, SinkOutput};
pub use session::{Session, SessionConfig, SessionReceiver, SessionSender, TryRecv, TrySendError};
