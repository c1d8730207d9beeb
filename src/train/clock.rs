//! Time for the trainer's pacing and reporting, behind a trait so that tests can move it by
//! hand and the browser build gets a clock that works there (`web_time`, which is
//! `std::time::Instant` on the desktop).

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use web_time::Instant;

/// A source of the current time.
pub trait Clock: Send {
    /// Now.
    fn now(&self) -> Instant;
}

/// The system's monotonic clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to: for tests of pacing and pausing.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<Instant>>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self { now: Arc::new(Mutex::new(Instant::now())) }
    }
}

impl ManualClock {
    /// Moves the clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.now.lock().map_or_else(|poisoned| *poisoned.into_inner(), |now| *now)
    }
}
