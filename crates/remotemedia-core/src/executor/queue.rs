//! A session's bounded input queue.
//!
//! Like a bounded channel, a full queue makes [`InputQueue::push`] wait
//! (backpressure). Unlike one, it also lets a live source that must not
//! wait make room by dropping the oldest waiting chunk
//! ([`InputQueue::push_or_drop_oldest`]); what was dropped is counted and
//! reported in the session's metrics.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Why a push was refused: nobody will ever read it. Carries the item back.
#[derive(Debug)]
pub(crate) struct Closed<T>(pub(crate) T);

/// Why [`InputQueue::try_push`] did not take an item (handed back).
#[derive(Debug)]
pub(crate) enum TryPush<T> {
    /// No room now.
    Full(T),
    /// Nobody will ever read it.
    Closed(T),
}

/// A bounded multi-producer, single-consumer queue.
#[derive(Debug)]
pub(crate) struct InputQueue<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    /// Signalled when an item arrives or the last sender leaves.
    readable: Notify,
    /// Signalled when room is made or the reader leaves.
    writable: Notify,
    dropped: AtomicU64,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    senders: usize,
    reader_alive: bool,
}

impl<T> InputQueue<T> {
    /// A queue for `capacity` items (at least one) with one sender.
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                senders: 1,
                reader_alive: true,
            }),
            capacity,
            readable: Notify::new(),
            writable: Notify::new(),
            dropped: AtomicU64::new(0),
        }
    }

    /// Items the queue holds before a push waits.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // Every critical section leaves the state consistent and none can
        // panic half-way, so a poisoned lock still holds good state.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds an item, waiting while the queue is full.
    pub(crate) async fn push(&self, item: T) -> Result<(), Closed<T>> {
        let mut item = Some(item);
        loop {
            let room = self.writable.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut s = self.lock();
                if !s.reader_alive {
                    return Err(Closed(item.take().expect("item held until pushed")));
                }
                if s.items.len() < self.capacity {
                    s.items.push_back(item.take().expect("item held until pushed"));
                    drop(s);
                    self.readable.notify_one();
                    return Ok(());
                }
            }
            room.await;
        }
    }

    /// Adds an item if there is room now; otherwise hands it back.
    pub(crate) fn try_push(&self, item: T) -> Result<(), TryPush<T>> {
        let mut s = self.lock();
        if !s.reader_alive {
            return Err(TryPush::Closed(item));
        }
        if s.items.len() >= self.capacity {
            return Err(TryPush::Full(item));
        }
        s.items.push_back(item);
        drop(s);
        self.readable.notify_one();
        Ok(())
    }

    /// Adds an item at once; when the queue is full, the oldest item that
    /// `droppable` accepts is dropped (and counted) to make room. If none is
    /// droppable the queue grows by one rather than lose a control item.
    pub(crate) fn push_or_drop_oldest(&self, item: T, droppable: impl Fn(&T) -> bool) -> Result<(), Closed<T>> {
        let mut s = self.lock();
        if !s.reader_alive {
            return Err(Closed(item));
        }
        let mut dropped = None;
        if s.items.len() >= self.capacity
            && let Some(oldest) = s.items.iter().position(&droppable)
        {
            s.items.remove(oldest);
            dropped = Some(self.dropped.fetch_add(1, Ordering::Relaxed) + 1);
        }
        s.items.push_back(item);
        drop(s);
        self.readable.notify_one();
        // Logged outside the lock (a log handler may block), at the 1st, 2nd,
        // 4th, 8th... drop: an overload shows at once without flooding the log.
        if let Some(dropped) = dropped.filter(|n| n.is_power_of_two()) {
            tracing::warn!(dropped, "input queue full: dropped the oldest chunk");
        }
        Ok(())
    }

    /// The next item; `None` once the queue is empty and every sender has
    /// left.
    pub(crate) async fn pop(&self) -> Option<T> {
        loop {
            let arrival = self.readable.notified();
            tokio::pin!(arrival);
            arrival.as_mut().enable();
            {
                let mut s = self.lock();
                if let Some(item) = s.items.pop_front() {
                    drop(s);
                    self.writable.notify_one();
                    return Some(item);
                }
                if s.senders == 0 {
                    return None;
                }
            }
            arrival.await;
        }
    }

    /// Items dropped by [`Self::push_or_drop_oldest`].
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A new sender joined.
    pub(crate) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// A sender left; the last one closes the queue for the reader.
    pub(crate) fn remove_sender(&self) {
        let last = {
            let mut s = self.lock();
            s.senders -= 1;
            s.senders == 0
        };
        if last {
            self.readable.notify_one();
        }
    }

    /// The reader left: pending and future pushes fail, queued items are
    /// dropped.
    pub(crate) fn close_reader(&self) {
        let items = {
            let mut s = self.lock();
            s.reader_alive = false;
            std::mem::take(&mut s.items)
        };
        drop(items);
        self.writable.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn fifo_with_backpressure() {
        let q = Arc::new(InputQueue::new(2));
        q.push(1).await.unwrap();
        q.push(2).await.unwrap();
        let q2 = Arc::clone(&q);
        let blocked = tokio::spawn(async move { q2.push(3).await.map_err(|c| c.0) });
        tokio::task::yield_now().await;
        assert!(!blocked.is_finished(), "a full queue must make the sender wait");
        assert_eq!(q.pop().await, Some(1));
        blocked.await.unwrap().unwrap();
        assert_eq!(q.pop().await, Some(2));
        assert_eq!(q.pop().await, Some(3));
        q.remove_sender();
        assert_eq!(q.pop().await, None);
    }

    #[tokio::test]
    async fn try_push_never_waits() {
        let q = InputQueue::new(1);
        q.try_push(1).unwrap();
        assert!(matches!(q.try_push(2), Err(TryPush::Full(2))));
        assert_eq!(q.pop().await, Some(1));
        q.try_push(3).unwrap();
        q.close_reader();
        assert!(matches!(q.try_push(4), Err(TryPush::Closed(4))));
    }

    #[tokio::test]
    async fn drop_oldest_makes_room_and_counts() {
        let q = InputQueue::new(3);
        for i in 0..5 {
            q.push_or_drop_oldest(i, |_| true).unwrap();
        }
        assert_eq!(q.dropped(), 2);
        q.push_or_drop_oldest(100, |&x| x >= 4).unwrap();
        assert_eq!(q.dropped(), 3);
        let mut got = Vec::new();
        q.remove_sender();
        while let Some(x) = q.pop().await {
            got.push(x);
        }
        assert_eq!(got, [2, 3, 100]);
    }

    #[tokio::test]
    async fn a_gone_reader_fails_senders() {
        let q = Arc::new(InputQueue::new(1));
        q.push(1).await.unwrap();
        let q2 = Arc::clone(&q);
        let waiting = tokio::spawn(async move { q2.push(2).await.map_err(|c| c.0) });
        tokio::task::yield_now().await;
        q.close_reader();
        assert_eq!(waiting.await.unwrap().unwrap_err(), 2);
        assert_eq!(q.push_or_drop_oldest(3, |_| true).unwrap_err().0, 3);
    }
}
