//! Threads for node calls that may be abandoned at their timeout.
//!
//! A call with a `timeout_ms` runs on a thread of its own so that the run
//! can stop waiting for it. A call that overruns is abandoned: it keeps its
//! thread until it returns, and nothing waits for it: the thread is
//! detached, not part of tokio's blocking pool, so it neither holds a
//! runtime's shutdown nor counts against the pool's cap (a process with
//! hundreds of stuck calls still starts new ones at once). The process
//! exits without joining it.
//!
//! Threads that finish their call wait for the next one for a while, so a
//! node called every few milliseconds does not pay for a new thread (and,
//! for a Python node, a new thread state) on every call. At most
//! [`MAX_IDLE`] wait; a thread idle for [`IDLE_EXIT`] ends.

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::oneshot;

/// Most threads kept waiting for work.
const MAX_IDLE: usize = 64;

/// How long a thread with no work waits before it ends.
const IDLE_EXIT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

/// An idle thread: its id and where to hand it work.
struct Idle {
    id: u64,
    jobs: mpsc::Sender<Job>,
}

struct Pool {
    idle: Vec<Idle>,
    next_id: u64,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    idle: Vec::new(),
    next_id: 0,
});

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // The critical sections only push, pop or retain: a poisoned lock still
    // holds a consistent list.
    POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `f` on a detached thread; its result arrives on the receiver. If
/// the thread dies (`f` panics) the receiver reports the sender dropped.
pub(crate) fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> oneshot::Receiver<T> {
    let (tx, rx) = oneshot::channel();
    let mut job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    loop {
        let idle = pool().idle.pop();
        match idle {
            Some(worker) => match worker.jobs.send(job) {
                Ok(()) => return rx,
                // The thread ended (its job panicked): try another.
                Err(mpsc::SendError(back)) => job = back,
            },
            None => {
                start_thread(job);
                return rx;
            }
        }
    }
}

fn start_thread(first: Job) {
    let (jobs, inbox) = mpsc::channel::<Job>();
    let id = {
        let mut p = pool();
        p.next_id += 1;
        p.next_id
    };
    let spawned = std::thread::Builder::new()
        .name("remotemedia-call".into())
        .spawn(move || work(id, first, &jobs, &inbox));
    // Out of threads: the job and its result sender are dropped with the
    // closure, so the caller sees the call fail rather than hang.
    drop(spawned);
}

fn work(id: u64, first: Job, jobs: &mpsc::Sender<Job>, inbox: &mpsc::Receiver<Job>) {
    first();
    loop {
        {
            let mut p = pool();
            if p.idle.len() >= MAX_IDLE {
                return;
            }
            p.idle.push(Idle { id, jobs: jobs.clone() });
        }
        match inbox.recv_timeout(IDLE_EXIT) {
            Ok(job) => job(),
            Err(_) => {
                // Leave only if nobody took this thread meanwhile; if
                // somebody did, its job is on the way.
                let mut p = pool();
                let before = p.idle.len();
                p.idle.retain(|w| w.id != id);
                if p.idle.len() < before {
                    return;
                }
                drop(p);
                match inbox.recv() {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            }
        }
    }
}
