//! The circuit breaker's state machine, on its own: no lock, no clock, no
//! logging. Every transition is in [`Circuit::on`]; the time comes in with
//! each event, so tests drive it with explicit instants.
//!
//! ```text
//!            failure (count reaches the threshold)
//!   Closed ------------------------------------------> Open{until}
//!     ^                                                   |
//!     | success                      permit, now >= until |
//!     |                                                   v
//!     +------------------------------------------ HalfOpen{trial_since}
//!                                  failure: Open{now + cool-down}
//! ```
//!
//! A success in any state closes the circuit and clears the count. A
//! failure while open or half-open (a call let through before it opened,
//! or the trial) opens it for a full cool-down from now. While half-open
//! only the trial goes through; a trial whose outcome never comes (its run
//! was cancelled) is replaced by another one cool-down after it started.

use std::time::Duration;

use tokio::time::Instant;

/// Where a breaker stands, with what each state needs to move on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Circuit {
    /// Calls go through; `failures` consecutive failed executions so far.
    Closed {
        /// Consecutive failures, below the threshold.
        failures: u32,
    },
    /// Calls are refused until `until`.
    Open {
        /// When the cool-down ends.
        until: Instant,
    },
    /// One trial call went through at `trial_since`; others are refused
    /// until its outcome.
    HalfOpen {
        /// When the trial was let through.
        trial_since: Instant,
    },
}

/// What happens to a circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A call asks to go through.
    Permit,
    /// An execution succeeded.
    Success,
    /// An execution failed (after its retries).
    Failure,
}

/// A change of state worth logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Closed, open or half-open -> open.
    Opened,
    /// Open -> half-open: a trial call goes through.
    HalfOpened,
    /// Open or half-open -> closed.
    Closed,
}

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Consecutive failures that open the circuit (at least 1).
    pub(crate) threshold: u32,
    /// How long it stays open before a trial.
    pub(crate) cooldown: Duration,
}

/// What [`Circuit::on`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// The state after the event.
    pub(crate) next: Circuit,
    /// For [`Event::Permit`]: whether the call may go through.
    pub(crate) permitted: bool,
    /// The change of state, if any.
    pub(crate) transition: Option<Transition>,
}

impl Circuit {
    /// A closed circuit with no failure counted.
    pub(crate) const CLEAN: Self = Self::Closed { failures: 0 };

    /// The one transition function: what `event` at `now` does to `self`.
    pub(crate) fn on(self, event: Event, now: Instant, limits: Limits) -> Step {
        let reopen = Self::Open {
            until: now + limits.cooldown,
        };
        let (next, permitted, transition) = match (self, event) {
            (Self::Closed { .. }, Event::Permit) => (self, true, None),
            (Self::Open { until }, Event::Permit) if now >= until => {
                (Self::HalfOpen { trial_since: now }, true, Some(Transition::HalfOpened))
            }
            (Self::HalfOpen { trial_since }, Event::Permit) if now >= trial_since + limits.cooldown => {
                (Self::HalfOpen { trial_since: now }, true, None)
            }
            (Self::Open { .. } | Self::HalfOpen { .. }, Event::Permit) => (self, false, None),
            (Self::Closed { .. }, Event::Success) => (Self::CLEAN, false, None),
            (Self::Open { .. } | Self::HalfOpen { .. }, Event::Success) => {
                (Self::CLEAN, false, Some(Transition::Closed))
            }
            (Self::Closed { failures }, Event::Failure) if failures.saturating_add(1) >= limits.threshold => {
                (reopen, false, Some(Transition::Opened))
            }
            (Self::Closed { failures }, Event::Failure) => (Self::Closed { failures: failures + 1 }, false, None),
            (Self::Open { .. } | Self::HalfOpen { .. }, Event::Failure) => (reopen, false, Some(Transition::Opened)),
        };
        Step {
            next,
            permitted,
            transition,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        threshold: 3,
        cooldown: Duration::from_millis(1000),
    };

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// Applies `events` at `at` in turn; returns the last step.
    fn run(mut c: Circuit, events: &[(Event, Instant)]) -> (Circuit, Step) {
        let mut last = None;
        for &(e, at) in events {
            let step = c.on(e, at, LIMITS);
            c = step.next;
            last = Some(step);
        }
        (c, last.expect("at least one event"))
    }

    #[test]
    fn closed_counts_failures_and_opens_at_the_threshold() {
        let t0 = Instant::now();
        let (c, step) = run(Circuit::CLEAN, &[(Event::Failure, t0), (Event::Failure, t0)]);
        assert_eq!(c, Circuit::Closed { failures: 2 });
        assert_eq!(step.transition, None);
        assert!(c.on(Event::Permit, t0, LIMITS).permitted);
        let step = c.on(Event::Failure, ms(t0, 5), LIMITS);
        assert_eq!(step.next, Circuit::Open { until: ms(t0, 1005) });
        assert_eq!(step.transition, Some(Transition::Opened));
    }

    #[test]
    fn a_success_clears_the_count_without_a_transition() {
        let t0 = Instant::now();
        let (c, step) = run(
            Circuit::CLEAN,
            &[(Event::Failure, t0), (Event::Failure, t0), (Event::Success, t0)],
        );
        assert_eq!((c, step.transition), (Circuit::CLEAN, None));
    }

    #[test]
    fn open_refuses_until_the_cooldown_ends_then_lets_one_trial_through() {
        let t0 = Instant::now();
        let open = Circuit::Open { until: ms(t0, 1000) };
        let early = open.on(Event::Permit, ms(t0, 999), LIMITS);
        assert_eq!((early.next, early.permitted, early.transition), (open, false, None));
        let trial = open.on(Event::Permit, ms(t0, 1000), LIMITS);
        assert!(trial.permitted);
        assert_eq!(
            trial.next,
            Circuit::HalfOpen {
                trial_since: ms(t0, 1000)
            }
        );
        assert_eq!(trial.transition, Some(Transition::HalfOpened));
        let second = trial.next.on(Event::Permit, ms(t0, 1500), LIMITS);
        assert!(!second.permitted, "one trial at a time");
    }

    #[test]
    fn the_trial_decides() {
        let t0 = Instant::now();
        let half = Circuit::HalfOpen { trial_since: t0 };
        let closed = half.on(Event::Success, ms(t0, 10), LIMITS);
        assert_eq!(
            (closed.next, closed.transition),
            (Circuit::CLEAN, Some(Transition::Closed))
        );
        let reopened = half.on(Event::Failure, ms(t0, 10), LIMITS);
        assert_eq!(reopened.next, Circuit::Open { until: ms(t0, 1010) });
        assert_eq!(reopened.transition, Some(Transition::Opened));
    }

    #[test]
    fn a_failure_while_open_restarts_the_cooldown() {
        let t0 = Instant::now();
        let open = Circuit::Open { until: ms(t0, 1000) };
        let step = open.on(Event::Failure, ms(t0, 400), LIMITS);
        assert_eq!(step.next, Circuit::Open { until: ms(t0, 1400) });
        let success = open.on(Event::Success, ms(t0, 400), LIMITS);
        assert_eq!(success.next, Circuit::CLEAN, "a late success closes it");
    }

    #[test]
    fn a_lost_trial_is_replaced_after_another_cooldown() {
        let t0 = Instant::now();
        let half = Circuit::HalfOpen { trial_since: t0 };
        assert!(!half.on(Event::Permit, ms(t0, 999), LIMITS).permitted);
        let again = half.on(Event::Permit, ms(t0, 1000), LIMITS);
        assert!(again.permitted);
        assert_eq!(
            again.next,
            Circuit::HalfOpen {
                trial_since: ms(t0, 1000)
            }
        );
    }

    #[test]
    fn a_threshold_of_one_opens_at_the_first_failure() {
        let t0 = Instant::now();
        let limits = Limits { threshold: 1, ..LIMITS };
        let step = Circuit::CLEAN.on(Event::Failure, t0, limits);
        assert_eq!(step.next, Circuit::Open { until: ms(t0, 1000) });
    }
}
