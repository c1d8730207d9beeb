//! One engine for one, two or many networks: an [`Ensemble`] trains lanes in lockstep.
//!
//! A lane is one seed's run (branch A) and, once the ensemble forks, an exact copy of it that
//! took a change (branch B). One unforked lane is a run; one forked lane is an A/B comparison;
//! K lanes are the seeds view; K forked lanes are the seeds view of a comparison. Every
//! operation has one code path whatever the count: stepping (on as many threads as allowed,
//! with the same bits for any count, since lanes are independent between commands), forking
//! (now, or when the lanes reach a step), a change sent to a target (A, B or both, in every
//! lane), a divergence (a branch that diverges stops alone; the others go on), going back to a
//! checkpoint, the record, and keeping one branch.
//!
//! The ensemble keeps its own clock, [`Ensemble::step_count`]: the lockstep steps made since
//! the lanes started. A branch that diverged stops while the clock goes on; a branch B that was
//! built anew at the fork (another init, say) counts its own steps from 0 there.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::command::{Annotation, Divergence, SessionCommand};
use super::config::{ConfigError, RunConfig};
use super::record::{ForkRecord, LaneRecord};
use super::session::{CommandError, Session, StepOutcome};
use super::settings::commands_between;

/// One branch of a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Branch {
    /// The run as it was (the branch the fork was made from).
    A,
    /// The copy that takes the change.
    B,
}

impl Branch {
    /// "A" or "B".
    pub fn letter(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
        }
    }
}

/// Which branches a change goes to (in every lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Branch A only.
    A,
    /// Branch B only.
    #[default]
    B,
    /// Both branches.
    Both,
}

impl Target {
    /// Whether a change sent to this target reaches `branch`.
    pub fn reaches(self, branch: Branch) -> bool {
        matches!((self, branch), (Self::Both, _) | (Self::A, Branch::A) | (Self::B, Branch::B))
    }

    /// "A", "B" or "both".
    pub fn label(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::Both => "both",
        }
    }
}

/// Where a lane's B split off its A.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForkPoint {
    /// The ensemble's step (A's, unless A had diverged) at the fork.
    pub step: u64,
    /// How many of A's recorded commands came before the fork.
    pub after_command: usize,
    /// B built a new network at the fork (another init, initial bias, architecture): it counts
    /// its own steps from 0 there.
    pub b_restarted: bool,
}

impl ForkPoint {
    /// How far B's own step count lags the ensemble's clock.
    fn b_offset(self) -> u64 {
        if self.b_restarted { self.step } else { 0 }
    }
}

/// A comparison as a snapshot shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForkInfo {
    /// The ensemble's step at the fork.
    pub step: u64,
    /// Steps made since.
    pub steps_since: u64,
    /// What B is ("B: activation ReLU → Leaky ReLU (0.1) from step 3000").
    pub description: String,
    /// B built a new network at the fork.
    pub b_restarted: bool,
}

/// One seed: its run (A) and, once forked, B.
#[derive(Clone, Debug)]
pub struct Lane {
    seed: u64,
    a: Session,
    b: Option<(Session, ForkPoint)>,
}

impl Lane {
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Branch A.
    pub fn a(&self) -> &Session {
        &self.a
    }

    /// Branch B, once forked.
    pub fn b(&self) -> Option<&Session> {
        self.b.as_ref().map(|(b, _)| b)
    }

    /// Where B split off, once forked.
    pub fn fork_point(&self) -> Option<ForkPoint> {
        self.b.as_ref().map(|&(_, point)| point)
    }

    /// The session of `branch`, if it exists.
    pub fn session(&self, branch: Branch) -> Option<&Session> {
        match branch {
            Branch::A => Some(&self.a),
            Branch::B => self.b(),
        }
    }

    /// The session of `branch`, to evaluate or step.
    pub fn session_mut(&mut self, branch: Branch) -> Option<&mut Session> {
        match branch {
            Branch::A => Some(&mut self.a),
            Branch::B => self.b.as_mut().map(|(b, _)| b),
        }
    }

    /// This lane's record: A's, and B's with its fork point once forked.
    pub fn record(&self) -> LaneRecord {
        let mut record = self.a.record();
        record.fork = self.b.as_ref().map(|(b, point)| ForkRecord {
            step: point.step,
            after_command: point.after_command,
            b_restarted: point.b_restarted,
            b: Box::new(b.record()),
        });
        record
    }

    /// A's session and B's slot, for the replay cursor.
    pub(crate) fn replay_parts(&mut self) -> (&mut Session, &mut Option<(Session, ForkPoint)>) {
        (&mut self.a, &mut self.b)
    }

    /// Splits B off A now, at the ensemble's `step`: an exact copy that then takes `changes`.
    fn fork(&mut self, step: u64, changes: &[SessionCommand]) -> Result<Vec<Annotation>, CommandError> {
        let mut b = self.a.clone();
        let mut annotations = Vec::with_capacity(changes.len());
        for command in changes {
            annotations.push(b.apply(command.clone())?);
        }
        let point = ForkPoint {
            step,
            after_command: self.a.commands().len(),
            b_restarted: b.network_generation() != self.a.network_generation(),
        };
        self.b = Some((b, point));
        Ok(annotations)
    }

    /// Every session of the lane with its branch.
    fn sessions_mut(&mut self) -> impl Iterator<Item = (Branch, &mut Session)> {
        std::iter::once((Branch::A, &mut self.a)).chain(self.b.as_mut().map(|(b, _)| (Branch::B, b)))
    }
}

/// When the lanes fork.
#[derive(Clone, Debug, PartialEq)]
enum ForkPlan {
    /// They do not.
    Never,
    /// Each lane forks when the clock reaches `step`, B taking `changes`.
    At {
        /// The ensemble's step of the fork.
        step: u64,
        /// B's changes.
        changes: Vec<SessionCommand>,
    },
    /// They have forked.
    Done,
}

/// A branch of a lane that diverged during [`Ensemble::step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneDivergence {
    /// The lane, by index.
    pub lane: usize,
    /// The lane's seed.
    pub seed: u64,
    /// The branch.
    pub branch: Branch,
    /// Where and why (the step is the branch's own).
    pub divergence: Divergence,
}

/// A change that took effect on one branch of one lane.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneAnnotation {
    /// The lane, by index.
    pub lane: usize,
    /// The branch.
    pub branch: Branch,
    /// What changed.
    pub annotation: Annotation,
}

/// What a change did: where it took effect, and the lanes that refused it (the first lane
/// never does: a change it refuses is an error and changes nothing).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// Every branch it changed.
    pub annotations: Vec<LaneAnnotation>,
    /// Lanes that refused it, in words ("seed 3 B: …").
    pub refusals: Vec<String>,
    /// The lanes were built anew (a reset): viewers start over.
    pub is_new_run: bool,
}

/// Why the ensemble refused something. Nothing was changed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EnsembleError {
    /// The lanes' settings are invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A branch refused the change.
    #[error("{branch}: {error}")]
    Command {
        /// Which branch ("A", "B", or "seed 3 B").
        branch: String,
        /// Why.
        error: CommandError,
    },
    /// A change to A that builds a new network while compared.
    #[error(
        "A keeps the network it was forked from; give a change that builds a new network (init, initial bias, \
         architecture) to B, or reset to start both over"
    )]
    RebuildA,
    /// A change to B that builds a new network after the branches trained apart.
    #[error(
        "B cannot build a new network {steps} steps after the fork; compare from step 0 instead (Reset while \
         comparing restarts both branches)"
    )]
    RebuildAfterFork {
        /// Steps since the fork.
        steps: u64,
    },
    /// A reset to one seed while several seeds train.
    #[error("every seed keeps its own seed; close the seeds view to change the seed")]
    SeedOfSeveral,
    /// Already forked.
    #[error("the run is already forked: keep A or B first")]
    AlreadyForked,
    /// Not forked.
    #[error("there is no comparison: fork the run first")]
    NotForked,
    /// No checkpoint to go back to.
    #[error("there is no checkpoint at or before step {step}{}", if *.is_forked { " and after the fork" } else { "" })]
    NoCheckpoint {
        /// The step asked for.
        step: u64,
        /// The lanes are forked (checkpoints before the fork do not count).
        is_forked: bool,
    },
    /// No lanes.
    #[error("an ensemble needs at least one seed")]
    NoLanes,
    /// A seed refused a change the first seed took.
    #[error("{0}")]
    Refused(String),
}

/// Lanes trained in lockstep: a run, a comparison, the seeds view.
#[derive(Clone, Debug)]
pub struct Ensemble {
    lanes: Vec<Lane>,
    plan: ForkPlan,
    /// The lockstep steps made (from the lanes' start).
    clock: u64,
    /// What B was given at the fork, in words.
    fork_words: Vec<String>,
    /// Changes to B after the fork, in words.
    later_words: Vec<String>,
}

impl Ensemble {
    /// One run of `config` (its own seed).
    pub fn single(config: RunConfig) -> Result<Self, EnsembleError> {
        Ok(Self::from_session(Session::new(config)?))
    }

    /// One run that goes on from `session`.
    pub fn from_session(session: Session) -> Self {
        let clock = session.step_count();
        let lane = Lane { seed: session.config().seed, a: session, b: None };
        Self { lanes: vec![lane], plan: ForkPlan::Never, clock, fork_words: Vec::new(), later_words: Vec::new() }
    }

    /// Runs of `config` on each of `seeds`, from step 0.
    pub fn seeds(config: &RunConfig, seeds: impl IntoIterator<Item = u64>) -> Result<Self, EnsembleError> {
        let lanes = seeds
            .into_iter()
            .map(|seed| Ok(Lane { seed, a: Session::new(RunConfig { seed, ..config.clone() })?, b: None }))
            .collect::<Result<Vec<_>, EnsembleError>>()?;
        if lanes.is_empty() {
            return Err(EnsembleError::NoLanes);
        }
        Ok(Self { lanes, plan: ForkPlan::Never, clock: 0, fork_words: Vec::new(), later_words: Vec::new() })
    }

    /// An ensemble of one unforked lane per `(seed, session)` at the ensemble step `clock`
    /// (a record's start; its replay forks the lanes where the record says).
    pub(crate) fn from_sessions(sessions: Vec<(u64, Session)>, clock: u64) -> Self {
        let lanes: Vec<Lane> = sessions.into_iter().map(|(seed, a)| Lane { seed, a, b: None }).collect();
        let is_forked = false;
        let plan = if is_forked { ForkPlan::Done } else { ForkPlan::Never };
        Self { lanes, plan, clock, fork_words: Vec::new(), later_words: Vec::new() }
    }

    /// Counts `steps` lockstep steps made by a replay.
    pub(crate) fn advance_clock(&mut self, steps: u64) {
        self.clock += steps;
    }

    /// A replay forked the lanes; `words` say what B was given.
    pub(crate) fn note_replayed_fork(&mut self, words: Vec<String>) {
        self.plan = ForkPlan::Done;
        self.fork_words = words;
        self.later_words.clear();
    }

    /// The lanes, in seed order.
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// Lane `index`, to evaluate.
    pub fn lane_mut(&mut self, index: usize) -> Option<&mut Lane> {
        self.lanes.get_mut(index)
    }

    /// The first lane (the run, outside the seeds view).
    pub fn first(&self) -> &Lane {
        &self.lanes[0]
    }

    /// The first lane, to evaluate.
    pub fn first_mut(&mut self) -> &mut Lane {
        &mut self.lanes[0]
    }

    /// Takes lane `index` out as a one-lane ensemble (the seeds view opens a seed as the run).
    pub fn into_lane(mut self, index: usize) -> Option<Self> {
        if index >= self.lanes.len() {
            return None;
        }
        let lane = self.lanes.swap_remove(index);
        let plan = if lane.b.is_some() { ForkPlan::Done } else { self.plan };
        Some(Self { lanes: vec![lane], plan, ..self })
    }

    /// The lockstep steps made.
    pub fn step_count(&self) -> u64 {
        self.clock
    }

    /// The step the run shows: the clock, or, once every branch of every lane has diverged,
    /// the step the latest of them stopped at (the clock runs on to the end of the round in
    /// which they stopped).
    pub fn shown_step(&self) -> u64 {
        if !self.is_finished() {
            return self.clock;
        }
        let stopped = self.lanes.iter().flat_map(|lane| {
            let offset_b = lane.fork_point().map_or(0, ForkPoint::b_offset);
            [Some(lane.a().step_count()), lane.b().map(|b| b.step_count() + offset_b)]
        });
        stopped.flatten().max().map_or(self.clock, |step| step.min(self.clock))
    }

    /// Whether the lanes have forked.
    pub fn is_forked(&self) -> bool {
        self.plan == ForkPlan::Done
    }

    /// The step at which the lanes fork or forked, if they do.
    pub fn fork_step(&self) -> Option<u64> {
        match &self.plan {
            ForkPlan::Never => None,
            ForkPlan::At { step, .. } => Some(*step),
            ForkPlan::Done => self.lanes.iter().find_map(Lane::fork_point).map(|point| point.step),
        }
    }

    /// The comparison as a snapshot shows it (the first forked lane's), once forked.
    pub fn fork_info(&self) -> Option<ForkInfo> {
        let point = self.lanes.iter().find_map(Lane::fork_point)?;
        Some(ForkInfo {
            step: point.step,
            steps_since: self.clock.saturating_sub(point.step),
            description: self.describe_b(point.step),
            b_restarted: point.b_restarted,
        })
    }

    /// B's label: what it was given at the fork and its latest changes since: "B: activation
    /// ReLU → Leaky ReLU (0.1) from step 3000; then learning rate 0.03 → 0.3".
    fn describe_b(&self, step: u64) -> String {
        let what = if self.fork_words.is_empty() { "identical to A".to_owned() } else { self.fork_words.join(", ") };
        let mut text = format!("B: {what} from step {step}");
        if let Some(last) = self.later_words.last() {
            let more = self.later_words.len() - 1;
            let _ = write!(text, "; then {last}");
            if more > 0 {
                let _ = write!(text, " and {more} more");
            }
        }
        text
    }

    /// Whether no branch of any lane can train on (every one diverged).
    pub fn is_finished(&self) -> bool {
        self.lanes
            .iter()
            .all(|lane| lane.a.divergence().is_some() && lane.b.as_ref().is_none_or(|(b, _)| b.divergence().is_some()))
    }

    /// Forks every lane now: B is an exact copy of A that takes `changes` (which may build a
    /// new network). Returns B's annotations. A change that any lane refuses forks none.
    pub fn fork_now(&mut self, changes: &[SessionCommand]) -> Result<Vec<LaneAnnotation>, EnsembleError> {
        if self.plan == ForkPlan::Done {
            return Err(EnsembleError::AlreadyForked);
        }
        let mut forked = self.lanes.clone();
        let mut annotations = Vec::new();
        for (index, lane) in forked.iter_mut().enumerate() {
            let made = lane.fork(self.clock, changes).map_err(|error| EnsembleError::Command {
                branch: format!("seed {} B, at the fork", lane.seed),
                error,
            })?;
            if index == 0 {
                self.fork_words = made.iter().map(|annotation| annotation.text.clone()).collect();
            }
            annotations.extend(made.into_iter().map(|annotation| LaneAnnotation {
                lane: index,
                branch: Branch::B,
                annotation,
            }));
        }
        self.lanes = forked;
        self.later_words.clear();
        self.plan = ForkPlan::Done;
        Ok(annotations)
    }

    /// Forks every lane when the clock reaches `step` (now, if it has), B taking `changes`.
    /// The changes are tried on a copy first, so a refusal is told now.
    pub fn fork_at(&mut self, step: u64, changes: Vec<SessionCommand>) -> Result<(), EnsembleError> {
        if self.plan == ForkPlan::Done {
            return Err(EnsembleError::AlreadyForked);
        }
        let mut probe = self.lanes[0].a.clone();
        for command in &changes {
            probe
                .apply(command.clone())
                .map_err(|error| EnsembleError::Command { branch: "B, at the fork".to_owned(), error })?;
        }
        self.plan = ForkPlan::At { step, changes };
        self.fork_if_due();
        Ok(())
    }

    /// Starts every lane over at step 0 on its current settings and forks it there.
    pub fn compare_from_start(&mut self, changes: &[SessionCommand]) -> Result<Vec<LaneAnnotation>, EnsembleError> {
        let before = self.clone();
        self.end_fork(Branch::A);
        self.reset_lanes(None)?;
        self.fork_now(changes).inspect_err(|_| *self = before)
    }

    /// Ends the comparison, going on with `branch` in every lane.
    pub fn keep(&mut self, branch: Branch) -> Result<(), EnsembleError> {
        if self.plan != ForkPlan::Done {
            return Err(EnsembleError::NotForked);
        }
        self.end_fork(branch);
        Ok(())
    }

    fn end_fork(&mut self, branch: Branch) {
        for lane in &mut self.lanes {
            if let Some((b, _)) = lane.b.take()
                && branch == Branch::B
            {
                lane.a = b;
            }
        }
        self.plan = ForkPlan::Never;
        self.fork_words.clear();
        self.later_words.clear();
    }

    /// Applies `command` to the branches `target` names, in every lane (to A alone before a
    /// fork). A change that builds a new network restarts the lanes: before a fork, each at its
    /// own seed; while compared, a reset starts both branches over (B keeping its differences
    /// from A), and B alone may rebuild only at the fork. The first lane's refusal is an error
    /// and changes nothing; a later lane's is reported in [`Applied::refusals`].
    pub fn apply(&mut self, target: Target, command: &SessionCommand) -> Result<Applied, EnsembleError> {
        if let SessionCommand::Reset { seed: Some(_) } = command
            && self.lanes.len() > 1
        {
            return Err(EnsembleError::SeedOfSeveral);
        }
        if self.plan != ForkPlan::Done {
            return self.apply_to(&[Branch::A], command);
        }
        if let SessionCommand::Reset { seed } = command {
            return self.restart_comparison(*seed);
        }
        let steps_since = self.fork_step().map_or(0, |step| self.clock.saturating_sub(step));
        if command.resets_network() {
            if target.reaches(Branch::A) {
                return Err(EnsembleError::RebuildA);
            }
            if steps_since > 0 {
                return Err(EnsembleError::RebuildAfterFork { steps: steps_since });
            }
        }
        let branches: Vec<Branch> = [Branch::A, Branch::B].into_iter().filter(|&b| target.reaches(b)).collect();
        let applied = self.apply_to(&branches, command)?;
        self.note_b_change(&applied, steps_since);
        Ok(applied)
    }

    /// Remembers B's change in words for its label, and a B rebuilt at the fork.
    fn note_b_change(&mut self, applied: &Applied, steps_since: u64) {
        let Some(first_b) =
            applied.annotations.iter().find(|annotation| annotation.lane == 0 && annotation.branch == Branch::B)
        else {
            return;
        };
        let text = first_b.annotation.text.clone();
        if steps_since == 0 {
            self.fork_words.push(text);
        } else {
            self.later_words.push(text);
        }
        for lane in &mut self.lanes {
            if let Some((b, point)) = &mut lane.b {
                point.b_restarted |= b.network_generation() != lane.a.network_generation();
            }
        }
    }

    /// Applies `command` to `branches` of every lane: all of lane 0 first (a refusal there is
    /// an error and is undone), then the others.
    fn apply_to(&mut self, branches: &[Branch], command: &SessionCommand) -> Result<Applied, EnsembleError> {
        let first_before = self.lanes[0].clone();
        let mut applied = Applied { is_new_run: command.resets_network(), ..Applied::default() };
        for index in 0..self.lanes.len() {
            for &branch in branches {
                let lane = &mut self.lanes[index];
                let seed = lane.seed;
                let Some(session) = lane.session_mut(branch) else { continue };
                match session.apply(command.clone()) {
                    Ok(annotation) => applied.annotations.push(LaneAnnotation { lane: index, branch, annotation }),
                    Err(error) if index == 0 => {
                        self.lanes[0] = first_before;
                        let branch = if self.plan == ForkPlan::Done { branch.letter() } else { "the run" };
                        return Err(EnsembleError::Command { branch: branch.to_owned(), error });
                    }
                    Err(error) => applied.refusals.push(format!("seed {seed} {}: {error}", branch.letter())),
                }
            }
        }
        if applied.is_new_run {
            self.clock = 0;
        }
        Ok(applied)
    }

    /// Reset while compared: A starts over in every lane (on its seed, or `seed`), and forks at
    /// once, B taking again every difference it had from A.
    fn restart_comparison(&mut self, seed: Option<u64>) -> Result<Applied, EnsembleError> {
        let b_config = self.lanes[0].b().map(|b| b.config().clone());
        let before = self.clone();
        self.end_fork(Branch::A);
        let mut applied = self.reset_lanes(seed)?;
        let mut changes = b_config.map(|b| commands_between(self.lanes[0].a.config(), &b)).unwrap_or_default();
        // The seed is A's; B keeps its other differences.
        changes.retain(|command| !matches!(command, SessionCommand::Reset { .. }));
        match self.fork_now(&changes) {
            Ok(annotations) => {
                applied.annotations.extend(annotations);
                Ok(applied)
            }
            Err(error) => {
                *self = before;
                Err(error)
            }
        }
    }

    /// Starts every lane's A over at step 0 (on its own seed, or `seed` for one lane).
    fn reset_lanes(&mut self, seed: Option<u64>) -> Result<Applied, EnsembleError> {
        self.apply_to(&[Branch::A], &SessionCommand::Reset { seed })
    }

    /// Makes `steps` lockstep steps: every branch that has not diverged makes each of them
    /// (B counting its own steps), the lanes forking on the way if they are due to. The
    /// sessions run on up to `threads` threads; the bits never depend on it. Returns the
    /// branches that diverged on the way.
    pub fn step(&mut self, steps: u64, threads: usize) -> Vec<LaneDivergence> {
        let mut divergences = Vec::new();
        let mut left = steps;
        while left > 0 {
            let until_fork = match &self.plan {
                ForkPlan::At { step, .. } if *step > self.clock => *step - self.clock,
                _ => u64::MAX,
            };
            let round = left.min(until_fork);
            divergences.extend(self.step_sessions(round, threads));
            self.clock += round;
            left -= round;
            self.fork_if_due();
        }
        divergences
    }

    /// Forks the lanes if the clock reached the planned step. A lane whose A diverged before
    /// the fork is not forked.
    fn fork_if_due(&mut self) {
        let ForkPlan::At { step, changes } = &self.plan else { return };
        if self.clock < *step {
            return;
        }
        let changes = changes.clone();
        let clock = self.clock;
        for (index, lane) in self.lanes.iter_mut().enumerate() {
            if lane.a.divergence().is_some() {
                continue;
            }
            // The changes were tried when the fork was planned; a lane that refuses now
            // stays unforked (its summary counts the lanes that forked).
            if let Ok(made) = lane.fork(clock, &changes)
                && index == 0
            {
                self.fork_words = made.into_iter().map(|annotation| annotation.text).collect();
            }
        }
        self.plan = ForkPlan::Done;
    }

    /// `steps` steps of every session that has not diverged, shared out over `threads`.
    fn step_sessions(&mut self, steps: u64, threads: usize) -> Vec<LaneDivergence> {
        let mut sessions: Vec<(usize, u64, Branch, &mut Session)> = Vec::new();
        for (index, lane) in self.lanes.iter_mut().enumerate() {
            let seed = lane.seed;
            for (branch, session) in lane.sessions_mut() {
                if session.divergence().is_none() {
                    sessions.push((index, seed, branch, session));
                }
            }
        }
        let run = |group: &mut [(usize, u64, Branch, &mut Session)]| -> Vec<LaneDivergence> {
            let mut found = Vec::new();
            for (lane, seed, branch, session) in group.iter_mut() {
                for _ in 0..steps {
                    if let StepOutcome::Diverged(divergence) = session.step() {
                        found.push(LaneDivergence { lane: *lane, seed: *seed, branch: *branch, divergence });
                        break;
                    }
                }
            }
            found
        };
        let threads = threads.clamp(1, sessions.len().max(1));
        if threads == 1 || cfg!(target_arch = "wasm32") {
            return run(&mut sessions);
        }
        // The sessions in as many chunks as threads, taken from a queue: a thread that cannot
        // be started leaves its chunk to the others (this one included).
        let size = sessions.len().div_ceil(threads);
        let queue = std::sync::Mutex::new(sessions.chunks_mut(size).collect::<Vec<_>>());
        let work = || {
            let mut found = Vec::new();
            loop {
                let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
                match next {
                    Some(chunk) => found.extend(run(chunk)),
                    None => return found,
                }
            }
        };
        let mut found: Vec<LaneDivergence> = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads)
                .filter_map(|number| super::threads::spawn_scoped(scope, format!("lanes-{number}"), work).ok())
                .collect();
            let mut found = work();
            for helper in helpers {
                // A panic on a lane's thread is a panic of the caller, as it would be here.
                found.extend(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            }
            found
        });
        found.sort_by_key(|divergence| (divergence.lane, divergence.branch == Branch::B));
        found
    }

    /// Goes back to the newest step at or before `step` (and after the fork, while compared)
    /// at which every branch that got that far has a checkpoint; a branch that diverged before
    /// it goes back to its own last checkpoint before the divergence. Returns the step.
    pub fn rewind(&mut self, step: u64) -> Result<u64, EnsembleError> {
        let fork_step = self.is_forked().then(|| self.fork_step().unwrap_or(0));
        let target = self
            .common_checkpoint(step, fork_step.unwrap_or(0))
            .ok_or(EnsembleError::NoCheckpoint { step, is_forked: fork_step.is_some() })?;
        for lane in &mut self.lanes {
            let offset_b = lane.fork_point().map_or(0, ForkPoint::b_offset);
            for (branch, session) in lane.sessions_mut() {
                let offset = if branch == Branch::B { offset_b } else { 0 };
                let own = target.saturating_sub(offset);
                let reached = session.step_count() + offset >= target;
                let at = if reached { own } else { session.step_count() };
                session.rewind(at);
            }
        }
        self.clock = target;
        Ok(target)
    }

    /// Where [`Ensemble::rewind`] would go back to for `step`, if anywhere.
    pub fn rewind_target(&self, step: u64) -> Option<u64> {
        let from = if self.is_forked() { self.fork_step().unwrap_or(0) } else { 0 };
        self.common_checkpoint(step, from)
    }

    /// Where "go back" lands after the run (the first lane) diverged: the newest common
    /// checkpoint before the earliest step at which one of its branches diverged (see
    /// [`Session::checkpoint_before_divergence`] for why not at it). `None` if no branch of
    /// the run diverged, or no checkpoint is that old.
    pub fn rewind_target_before_divergence(&self) -> Option<u64> {
        let lane = self.first();
        let offset_b = lane.fork_point().map_or(0, ForkPoint::b_offset);
        let failed_at =
            [lane.a().divergence().map(|d| d.step), lane.b().and_then(Session::divergence).map(|d| d.step + offset_b)]
                .into_iter()
                .flatten()
                .min()?;
        self.rewind_target(failed_at.checked_sub(1)?)
    }

    /// The newest ensemble step in `from..=step` at which every branch that reached it has a
    /// checkpoint.
    fn common_checkpoint(&self, step: u64, from: u64) -> Option<u64> {
        let candidates: Vec<u64> = {
            let lane = &self.lanes[0];
            lane.a.checkpoint_steps().filter(|&at| at <= step && at >= from).collect()
        };
        candidates.into_iter().rev().find(|&candidate| {
            self.lanes.iter().all(|lane| {
                let offset_b = lane.fork_point().map_or(0, ForkPoint::b_offset);
                let branches = std::iter::once((&lane.a, 0)).chain(lane.b().map(|b| (b, offset_b)));
                branches
                    .filter(|(session, offset)| session.step_count() + offset >= candidate)
                    .all(|(session, offset)| session.checkpoint_steps().any(|at| at + offset == candidate))
            })
        })
    }

    /// The record of every lane.
    pub fn lane_records(&self) -> Vec<LaneRecord> {
        self.lanes.iter().map(Lane::record).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Init};
    use crate::train::presets;

    fn preset(name: &str) -> RunConfig {
        presets::find(name).unwrap().config().unwrap()
    }

    fn leaky() -> SessionCommand {
        SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } }
    }

    #[test]
    fn a_fork_with_no_change_stays_bit_identical() {
        let mut ensemble = Ensemble::single(preset("high-learning-rate")).unwrap();
        ensemble.step(300, 1);
        ensemble.fork_now(&[]).unwrap();
        ensemble.step(1000, 2);
        let lane = ensemble.first();
        assert_eq!(lane.a().network(), lane.b().unwrap().network());
        assert_eq!(ensemble.fork_info().unwrap().description, "B: identical to A from step 300");
    }

    #[test]
    fn b_differs_from_a_only_through_its_change_and_a_fork_at_a_step_is_a_fork_then() {
        let config = preset("high-learning-rate");
        let mut switched_alone = Session::new(config.clone()).unwrap();
        for _ in 0..500 {
            switched_alone.step();
        }
        switched_alone.apply(leaky()).unwrap();
        for _ in 0..700 {
            switched_alone.step();
        }
        let mut planned = Ensemble::single(config.clone()).unwrap();
        planned.fork_at(500, vec![leaky()]).unwrap();
        planned.step(1200, 2);
        let mut now = Ensemble::single(config).unwrap();
        now.step(500, 1);
        now.fork_now(&[leaky()]).unwrap();
        now.step(700, 1);
        for ensemble in [&planned, &now] {
            assert_eq!(
                ensemble.first().b().unwrap().network(),
                switched_alone.network(),
                "B is the run that switched at 500"
            );
            assert_ne!(ensemble.first().a().network(), switched_alone.network());
            assert!(ensemble.fork_info().unwrap().description.starts_with("B: activation ReLU → Leaky ReLU"));
        }
    }

    #[test]
    fn each_seed_is_the_single_run_of_that_seed_for_any_thread_count() {
        let config = preset("high-learning-rate");
        let mut one_thread = Ensemble::seeds(&config, 3..=6).unwrap();
        one_thread.fork_at(100, vec![leaky()]).unwrap();
        one_thread.step(250, 1);
        let mut three_threads = Ensemble::seeds(&config, 3..=6).unwrap();
        three_threads.fork_at(100, vec![leaky()]).unwrap();
        three_threads.step(250, 3);
        for (lane, other) in one_thread.lanes().iter().zip(three_threads.lanes()) {
            let mut single = Session::new(RunConfig { seed: lane.seed(), ..config.clone() }).unwrap();
            for _ in 0..250 {
                single.step();
            }
            assert_eq!(lane.a().network(), single.network(), "seed {}", lane.seed());
            assert_eq!(lane.b().unwrap().network(), other.b().unwrap().network());
            assert_eq!(lane.fork_point().unwrap().step, 100);
        }
    }

    #[test]
    fn a_branch_that_diverges_stops_alone_and_the_clock_goes_on() {
        let mut config = preset("leaky-clipped");
        config.training.clip_gradient_norm = None;
        let mut ensemble = Ensemble::single(config).unwrap();
        ensemble.fork_at(0, vec![SessionCommand::SetGradientClipping { max_norm: Some(1.0) }]).unwrap();
        let divergences = ensemble.step(3000, 2);
        assert_eq!(ensemble.step_count(), 3000);
        assert_eq!(divergences.len(), 1, "{divergences:?}");
        assert_eq!(divergences[0].branch, Branch::A);
        let lane = ensemble.first();
        assert!(lane.a().step_count() < 100, "A stopped where it diverged");
        assert_eq!(lane.b().unwrap().step_count(), 3000, "B went on to the end");
        assert!(!ensemble.is_finished());
    }

    #[test]
    fn rebuilding_is_refused_where_it_would_break_the_comparison() {
        let mut ensemble = Ensemble::single(RunConfig::default()).unwrap();
        ensemble.fork_now(&[]).unwrap();
        // At the fork B may still rebuild (a comparison from step 0 with another init).
        ensemble.apply(Target::B, &SessionCommand::SetInit { init: Init::Rai }).unwrap();
        assert!(ensemble.fork_info().unwrap().b_restarted);
        ensemble.step(1, 1);
        let error = ensemble.apply(Target::B, &SessionCommand::SetInit { init: Init::HeNormal }).unwrap_err();
        assert_eq!(error, EnsembleError::RebuildAfterFork { steps: 1 });
        let error = ensemble.apply(Target::Both, &SessionCommand::SetInit { init: Init::HeNormal }).unwrap_err();
        assert_eq!(error, EnsembleError::RebuildA);
        // A reset starts both over, B keeping its init.
        ensemble.apply(Target::Both, &SessionCommand::Reset { seed: None }).unwrap();
        assert_eq!(ensemble.step_count(), 0);
        assert_eq!(ensemble.first().b().unwrap().config().network.init, Init::Rai);
        assert_eq!(ensemble.first().a().config().network.init, RunConfig::default().network.init);
    }

    #[test]
    fn a_refused_change_changes_nothing() {
        let mut ensemble = Ensemble::seeds(&RunConfig::default(), 1..=3).unwrap();
        let error = ensemble.apply(Target::Both, &SessionCommand::SetLearningRate { learning_rate: -1.0 }).unwrap_err();
        assert!(matches!(error, EnsembleError::Command { .. }), "{error}");
        assert!(ensemble.lanes().iter().all(|lane| lane.a().commands().is_empty()));
        assert_eq!(
            ensemble.apply(Target::Both, &SessionCommand::Reset { seed: Some(4) }),
            Err(EnsembleError::SeedOfSeveral)
        );
    }

    #[test]
    fn going_back_while_compared_gives_the_bits_of_both_branches_then() {
        let mut ensemble = Ensemble::seeds(&preset("high-learning-rate"), 1..=2).unwrap();
        ensemble.step(300, 2);
        ensemble.fork_now(&[SessionCommand::SetLearningRate { learning_rate: 0.03 }, leaky()]).unwrap();
        ensemble.step(300, 2);
        let at_600 = ensemble.clone();
        ensemble.step(150, 2);
        assert_eq!(ensemble.rewind(700), Ok(600));
        assert_eq!(ensemble.step_count(), 600);
        for (lane, then) in ensemble.lanes().iter().zip(at_600.lanes()) {
            assert_eq!(lane.a().network(), then.a().network());
            assert_eq!(lane.b().unwrap().network(), then.b().unwrap().network());
        }
        assert!(matches!(ensemble.rewind(200), Err(EnsembleError::NoCheckpoint { is_forked: true, .. })));
    }
}
