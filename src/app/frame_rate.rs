//! How fast the window redraws: frames in the last second, shown in the help overlay.

use std::collections::VecDeque;
use std::time::Duration;

use web_time::Instant;

/// The window over which frames are counted.
const WINDOW: Duration = Duration::from_secs(1);

/// The start times of recent frames.
#[derive(Debug, Default)]
pub(super) struct FrameRate {
    starts: VecDeque<Instant>,
}

impl FrameRate {
    /// Notes that a frame starts now.
    pub(super) fn tick(&mut self) {
        let now = Instant::now();
        self.starts.push_back(now);
        while self.starts.front().is_some_and(|&start| now.duration_since(start) > WINDOW) {
            self.starts.pop_front();
        }
    }

    /// Frames drawn in the last second.
    pub(super) fn per_second(&self) -> usize {
        let now = Instant::now();
        self.starts.iter().filter(|&&start| now.duration_since(start) <= WINDOW).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_recent_frames_only() {
        let mut rate = FrameRate::default();
        for _ in 0..5 {
            rate.tick();
        }
        assert_eq!(rate.per_second(), 5);
    }
}
