//! How much of the trainer's time the pictures and the numbers may take while it trains.
//!
//! A history point evaluates the whole training and test sets, and a snapshot draws every
//! shown neuron on a grid; for a small network both cost microseconds, for 2-(512×8)-1 each
//! costs as much as dozens of training steps. Rather than a fixed rate, each kind of work gets
//! a share of the time: after work that took `t`, the next comes no sooner than
//! `t × (1 − share) / share` later, so a network of any size keeps at least
//! `1 − (sum of the shares)` of the trainer for training. The cost is measured on the trainer's
//! own clock, so on a virtual clock (a video render, where time stands still while the trainer
//! works) the budget never delays anything and a render stays frame-exact.

use std::time::Duration;

/// The share of the trainer's time snapshots may take while it trains.
pub const SNAPSHOT_SHARE: f64 = 0.1;
/// The share of the trainer's time history points (full evaluations) may take while it trains.
pub const REPORT_SHARE: f64 = 0.05;

/// The recent cost of one kind of work, and the least gap it allows between two of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeBudget {
    /// The share of the time this work may take.
    share: f64,
    /// Time spent since the last [`TimeBudget::settle`].
    pending: Duration,
    /// The cost of one piece of work, smoothed over the last few.
    cost: Duration,
}

impl TimeBudget {
    /// A budget of `share` of the time (between 0 and 1).
    pub fn new(share: f64) -> Self {
        Self { share: share.clamp(1e-3, 1.0), pending: Duration::ZERO, cost: Duration::ZERO }
    }

    /// Counts `took` towards the piece of work under way.
    pub fn add(&mut self, took: Duration) {
        self.pending += took;
    }

    /// Ends a piece of work: its cost (what was added since the last call) joins the smoothed
    /// cost, half and half.
    pub fn settle(&mut self) {
        self.cost = if self.cost.is_zero() { self.pending } else { (self.cost + self.pending) / 2 };
        self.pending = Duration::ZERO;
    }

    /// The smoothed cost of one piece of work.
    pub fn cost(&self) -> Duration {
        self.cost
    }

    /// The least time from one piece of work to the next: `least`, or longer when the work
    /// would otherwise take more than its share.
    pub fn gap(&self, least: Duration) -> Duration {
        least.max(self.cost.mul_f64((1.0 - self.share) / self.share))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheap_work_keeps_its_rate_and_dear_work_keeps_to_its_share() {
        let mut budget = TimeBudget::new(0.1);
        budget.add(Duration::from_micros(300));
        budget.settle();
        assert_eq!(budget.gap(Duration::from_millis(33)), Duration::from_millis(33));
        let mut budget = TimeBudget::new(0.1);
        budget.add(Duration::from_millis(60));
        budget.add(Duration::from_millis(40));
        budget.settle();
        // 100 ms of work, then 900 ms of training: a tenth of the time.
        assert_eq!(budget.gap(Duration::from_millis(33)), Duration::from_millis(900));
        budget.add(Duration::from_millis(20));
        budget.settle();
        assert_eq!(budget.cost(), Duration::from_millis(60), "smoothed half and half");
    }

    #[test]
    fn time_that_stands_still_never_delays() {
        let mut budget = TimeBudget::new(0.05);
        budget.settle();
        assert_eq!(budget.gap(Duration::from_millis(10)), Duration::from_millis(10));
    }
}
