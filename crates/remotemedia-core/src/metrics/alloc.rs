//! Peak memory measured at the allocator.
//!
//! [`TrackingAllocator`] wraps the system allocator and counts live heap
//! bytes: process-wide, and for the node call running on the current thread
//! (a thread-local scope opened by [`measure`]). A node's peak is the most
//! its call held at once beyond what it held on entry, so a node that
//! allocates 10 MB reports about 10 MB and one that allocates nothing
//! reports 0.
//!
//! A binary opts in with
//! `#[global_allocator] static A: TrackingAllocator = TrackingAllocator;`
//! (the CLI and the Python extension do). Without it [`is_tracking`] is
//! false and memory figures are reported as 0.
//!
//! What is counted: every heap allocation made on the thread that runs the
//! call, through Rust's global allocator. Not counted: memory a node's
//! foreign runtime takes from its own allocator (CPython's object arenas,
//! numpy buffers allocated by Python code), memory mapped directly, and work
//! a node hands to other threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// The system allocator, counting live bytes (see the module docs).
#[derive(Debug, Default, Clone, Copy)]
pub struct TrackingAllocator;

static INSTALLED: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicI64 = AtomicI64::new(0);

thread_local! {
    /// Bytes allocated minus freed since the current scope opened, and the
    /// highest that has been; `None`-like when `ACTIVE` is false.
    static SCOPE_NOW: Cell<i64> = const { Cell::new(0) };
    static SCOPE_PEAK: Cell<i64> = const { Cell::new(0) };
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

#[inline]
fn track(delta: i64) {
    LIVE.fetch_add(delta, Ordering::Relaxed);
    // `try_with`: the thread-locals may already be gone while a thread exits.
    let _ = ACTIVE.try_with(|active| {
        if active.get() {
            let now = SCOPE_NOW.get() + delta;
            SCOPE_NOW.set(now);
            if now > SCOPE_PEAK.get() {
                SCOPE_PEAK.set(now);
            }
        }
    });
}

// SAFETY: every method forwards to `System` unchanged and only updates
// counters, which neither allocate nor unwind.
unsafe impl GlobalAlloc for TrackingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            if !INSTALLED.load(Ordering::Relaxed) {
                INSTALLED.store(true, Ordering::Relaxed);
            }
            track(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// True when the running binary installed [`TrackingAllocator`].
pub fn is_tracking() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Live heap bytes of the whole process (0 without the tracking allocator).
pub fn live_bytes() -> u64 {
    LIVE.load(Ordering::Relaxed).max(0) as u64
}

/// Runs `f` and returns its result with the peak heap bytes it held on this
/// thread beyond what was live when it started. Scopes do not nest: an inner
/// `measure` reports its own peak and the outer one resumes afterwards
/// without counting the inner one's.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let saved = (ACTIVE.get(), SCOPE_NOW.get(), SCOPE_PEAK.get());
    ACTIVE.set(true);
    SCOPE_NOW.set(0);
    SCOPE_PEAK.set(0);
    let result = f();
    let peak = SCOPE_PEAK.get().max(0) as u64;
    ACTIVE.set(saved.0);
    SCOPE_NOW.set(saved.1);
    SCOPE_PEAK.set(saved.2);
    (result, peak)
}
