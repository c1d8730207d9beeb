//! What the trainer publishes for the UI to draw: the run's snapshot and what the mode adds to
//! it (branch B while compared, every seed in the seeds view). One mode at a time, so a view
//! cannot show a comparison and the seeds at once.

use std::sync::Arc;

use super::ensemble::ForkInfo;
use super::seeds::SeedsView;
use super::snapshot::Snapshot;

/// The trainer's picture at one moment.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct View {
    /// The run (branch A while compared; in the seeds view, the run that waits meanwhile).
    pub run: Arc<Snapshot>,
    /// What the mode shows besides.
    pub mode: ModeView,
    /// The trainer's step: the run's, or the seeds view's lockstep steps.
    pub step: u64,
    /// Where "go back" lands after the run diverged: the newest checkpoint before the step
    /// that diverged that every branch has.
    pub rewind_step: Option<u64>,
    /// Where a lesson's script is, while one plays.
    pub lesson: Option<LessonProgress>,
}

/// Where a lesson's script is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LessonProgress {
    /// The lesson's step (its own clock, on across a comparison from step 0).
    pub lesson_step: u64,
    /// The next beat: its index and its lesson step.
    pub next_beat: Option<(usize, u64)>,
    /// The user changed the run outside the script.
    pub is_off_script: bool,
}

/// What a mode shows besides the run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ModeView {
    /// One run.
    Run,
    /// The run (A) compared with a fork of itself (B).
    Compare {
        /// Branch B.
        b: Arc<Snapshot>,
        /// Where B forked and what it is.
        fork: ForkInfo,
    },
    /// K seeds side by side.
    Seeds(Arc<SeedsView>),
}

impl View {
    /// Branch B, while compared.
    pub fn branch_b(&self) -> Option<&Arc<Snapshot>> {
        match &self.mode {
            ModeView::Compare { b, .. } => Some(b),
            ModeView::Run | ModeView::Seeds(_) => None,
        }
    }

    /// Where B forked, while compared.
    pub fn fork(&self) -> Option<&ForkInfo> {
        match &self.mode {
            ModeView::Compare { fork, .. } => Some(fork),
            ModeView::Run | ModeView::Seeds(_) => None,
        }
    }

    /// The seeds, in the seeds view.
    pub fn seeds(&self) -> Option<&Arc<SeedsView>> {
        match &self.mode {
            ModeView::Seeds(seeds) => Some(seeds),
            ModeView::Run | ModeView::Compare { .. } => None,
        }
    }

    /// Passes over the training set so far (the first seed's, in the seeds view).
    pub fn epoch(&self) -> f64 {
        match &self.mode {
            ModeView::Seeds(seeds) => seeds.lanes.first().map_or(0.0, |lane| lane.a.evaluation.epoch),
            ModeView::Run | ModeView::Compare { .. } => self.run.evaluation.epoch,
        }
    }

    /// Whether a change can go to B (compared, or the seeds view of a comparison).
    pub fn is_forked(&self) -> bool {
        match &self.mode {
            ModeView::Run => false,
            ModeView::Compare { .. } => true,
            ModeView::Seeds(seeds) => seeds.fork_step.is_some(),
        }
    }
}
