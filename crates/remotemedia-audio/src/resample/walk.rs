//! The walk of a polyphase stage over its outputs: which branch and input offset each uses.

/// The branch and window offset of consecutive outputs: each output adds `step_phase` to
/// the phase (carrying one frame into the offset when it reaches `up`) and `step_off` to
/// the offset.
pub(super) struct Walk {
    up: usize,
    phase: usize,
    off: usize,
    step_phase: usize,
    step_off: usize,
}

impl Walk {
    pub(super) fn new(up: usize, (phase, off): (usize, usize), (step_phase, step_off): (usize, usize)) -> Self {
        Self {
            up,
            phase,
            off,
            step_phase,
            step_off,
        }
    }

    /// The branch and window offset of the next output.
    #[inline]
    pub(super) fn next(&mut self) -> (usize, usize) {
        let here = (self.phase, self.off);
        self.phase += self.step_phase;
        self.off += self.step_off;
        if self.phase >= self.up {
            self.phase -= self.up;
            self.off += 1;
        }
        here
    }
}
