//! The trainer loop without a thread: commands in, events and snapshots out, and a
//! non-blocking [`Trainer::tick`] that trains (or replays) until a deadline. The desktop runs
//! it on its own thread ([`super::worker::TrainerHandle`]); a browser tab, which has no
//! threads, calls `tick` from the frame with a small time budget. Either way the same code
//! makes the same steps.
//!
//! Nothing grows without bound here: history points waiting for a slow UI are merged in
//! pairs, the newest snapshot replaces the last one, and neuron state changes travel in the
//! snapshot from the census's bounded log.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::autopsy::{NeuronAutopsy, NeuronRef, neuron_autopsy};
use super::clock::{Clock, Instant};
use super::command::{Annotation, Divergence, SessionCommand};
use super::compare::{Branch, Fork, Target, commands_between};
use super::config::RunConfig;
use super::export::NetworkFile;
use super::history::HistoryPoint;
use super::record::RunRecord;
use super::replay::{ComparisonCursor, ComparisonStep, ReplayStep};
use super::seeds::{FIRST_SEED, MAX_SEEDS, SeedsRun};
use super::session::{Session, StepOutcome};
use super::snapshot::{DEFAULT_GRID_RESOLUTION, Snapshot, Snapshotter};

/// The least time between two published snapshots (about 30 per second).
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(33);
/// The least time between two history points while training fast.
pub const MIN_REPORT_GAP: Duration = Duration::from_millis(10);
/// The longest the reporting interval grows to, in steps.
const MAX_REPORT_STRIDE: u64 = 1 << 20;
/// The default reporting interval, in steps.
pub const DEFAULT_REPORT_EVERY: u64 = 20;
/// Events waiting for the UI beyond this are compacted (history points merged in pairs).
pub const MAX_WAITING_EVENTS: usize = 2048;
/// The least time between two views of the seeds (each evaluates every lane).
const SEEDS_VIEW_INTERVAL: Duration = Duration::from_millis(200);
/// A round of the seeds view at full speed aims to take about this long.
const SEEDS_ROUND_TARGET: Duration = Duration::from_millis(3);
/// The most lockstep steps in one round of the seeds view.
const MAX_SEEDS_ROUND: u64 = 4096;
/// A quiet round of two branches at full speed aims to take about this long.
const PAIR_ROUND_TARGET: Duration = Duration::from_millis(2);
/// The most steps of a quiet round of two branches.
const MAX_PAIR_ROUND: u64 = 4096;

/// How fast the trainer trains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as the machine allows.
    Max,
    /// At most this many steps per second.
    StepsPerSecond(f64),
}

/// A request to the trainer: a session command, or one about the trainer itself.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerCommand {
    /// Change the run (recorded for replay).
    Session(SessionCommand),
    /// Stop training; the run keeps its state.
    Pause,
    /// Train again, at the chosen speed from where it stopped.
    Resume,
    /// Make this many steps, then pause.
    Step(u64),
    /// Set the speed.
    SetSpeed(Speed),
    /// Start a new run from `config` (a lesson or a loaded file).
    Load(Box<RunConfig>),
    /// Replay a saved run record as fast as possible (emitting its history as it goes), then
    /// continue from its end.
    LoadRecord(Box<RunRecord>),
    /// Start the record's run over and replay it live: each command is applied at its step
    /// while training at the current speed; the run pauses where the record ended.
    ReplayLive(Box<RunRecord>),
    /// Continue from an exported network: its config, its weights, step 0.
    LoadNetwork(Box<NetworkFile>),
    /// Go back to the newest checkpoint at or before `step` (the history after it is
    /// dropped), then apply `then` (for example a lower learning rate). Paused afterwards.
    Rewind {
        /// The step to go back to, at most.
        step: u64,
        /// Commands to apply right after.
        then: Vec<SessionCommand>,
    },
    /// Apply a session command to one branch of a comparison (or both), or, while the seeds
    /// view is open, to that branch in every seed. Recorded like [`WorkerCommand::Session`].
    OnBranch {
        /// Which branch.
        target: Target,
        /// The command.
        command: SessionCommand,
    },
    /// Fork the run now into A and B, identical in every bit; B then takes `changes`.
    Fork {
        /// B's changes at the fork.
        changes: Vec<SessionCommand>,
    },
    /// Start the run over at step 0 on its current settings and fork it there: B takes
    /// `changes` (which may build another network: init, initial bias, architecture).
    CompareFromStart {
        /// B's changes at the fork.
        changes: Vec<SessionCommand>,
    },
    /// End the comparison and go on with `branch` (its history stays).
    Keep(Branch),
    /// Open the seeds view: `count` runs of the current settings on seeds 1, 2, …, each forked
    /// as the comparison is (if one is open). The run itself waits meanwhile.
    OpenSeeds {
        /// How many seeds (at most [`super::seeds::MAX_SEEDS`]).
        count: usize,
    },
    /// Open seed number `index` of the seeds view as the run (and its B, if forked).
    OpenSeed(usize),
    /// Close the seeds view; the run goes on where it waited.
    CloseSeeds,
    /// Send the run record so far ([`TrainerEvent::Record`]).
    RequestRecord,
    /// Publish a snapshot now, even when paused.
    RequestSnapshot,
    /// Find how this neuron of the run died, by replay ([`TrainerEvent::Autopsy`]).
    Autopsy(NeuronRef),
    /// Panic inside the trainer (for testing how a dead worker is reported).
    #[doc(hidden)]
    InjectPanic,
}

/// What the trainer tells the UI, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainerEvent {
    /// One reporting interval's numbers (or several merged, when the UI fell behind).
    History(HistoryPoint),
    /// A command took effect.
    Annotation(Annotation),
    /// A command was refused, or a replay stopped; nothing else changed.
    CommandRefused(String),
    /// Something the user should read (a replay's verdict).
    Notice(String),
    /// The run diverged and paused itself.
    Diverged(Divergence),
    /// A new run started (a reset or a load): start the plots over.
    NewRun(Box<RunConfig>),
    /// The run went back to `step`: drop the history after it.
    Rewound {
        /// The step it went back to.
        step: u64,
        /// The step at which it had diverged, if it had.
        from_divergence: Option<u64>,
    },
    /// Training paused or resumed.
    Running(bool),
    /// The run record asked for.
    Record(Box<RunRecord>),
    /// The worker died; the message says why. A new handle can be started.
    WorkerDied(String),
    /// Branch B's numbers for one reporting interval (while comparing).
    BranchHistory(HistoryPoint),
    /// A command took effect on branch B.
    BranchAnnotation(Annotation),
    /// The run forked at A's `step`: B shares A's history up to there, unless it built a new
    /// network (`b_restarted`), when its history starts at its own step 0.
    Forked {
        /// A's step at the fork.
        step: u64,
        /// B built a new network at the fork.
        b_restarted: bool,
    },
    /// The comparison ended; the run goes on with `kept` (and its history).
    ComparisonEnded {
        /// The branch kept.
        kept: Branch,
    },
    /// The autopsy asked for: how `neuron` died, or why it could not be found.
    Autopsy {
        /// The neuron asked about.
        neuron: NeuronRef,
        /// Its latest death, or the reason there is none.
        result: Result<Box<NeuronAutopsy>, String>,
    },
}

/// What a [`Trainer::tick`] left to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// The deadline came while there was more to do: call again soon.
    Busy,
    /// Paced: the next step is due at this time.
    WaitUntil(Instant),
    /// Paused: nothing to do until a command arrives.
    Idle,
}

/// A replay in progress.
#[derive(Debug)]
struct Replay {
    cursor: ComparisonCursor,
    /// Live (paced, pausing at the end) or as fast as possible.
    is_live: bool,
    /// A fast replay ends running only if the run was running when it started.
    is_running_after: bool,
}

/// The trainer: the session, its replay cursor, pacing, reporting, and what waits for the UI.
pub struct Trainer {
    session: Session,
    snapshotter: Snapshotter,
    /// Branch B, while the run is compared with a fork of itself.
    fork: Option<Fork>,
    b_snapshotter: Snapshotter,
    /// The seeds view, while open (the run waits meanwhile).
    seeds: Option<SeedsRun>,
    /// Lockstep steps per round of the seeds view at full speed, adapted to take about
    /// [`SEEDS_ROUND_TARGET`].
    seeds_round: u64,
    last_seeds_view: Option<Instant>,
    /// Steps per quiet round of two branches at full speed, adapted to take about
    /// [`PAIR_ROUND_TARGET`].
    pair_round: u64,
    /// Threads a round of the seeds view (or of two branches) may use.
    threads: usize,
    clock: Box<dyn Clock>,
    replay: Option<Replay>,
    is_running: bool,
    steps_left: Option<u64>,
    speed: Speed,
    /// The reporting interval in use: doubled while reports would come more often than every
    /// `MIN_REPORT_GAP` (a fast net would otherwise spend its time on diagnostics), halved back
    /// when they come rarely.
    report_stride: u64,
    last_report: Instant,
    /// Pacing: the time and step count from which the speed is counted.
    paced_from: (Instant, u64),
    last_snapshot: Option<Instant>,
    is_snapshot_due: bool,
    outbox: VecDeque<TrainerEvent>,
    latest: Option<Arc<Snapshot>>,
    has_new_snapshot: bool,
}

impl Trainer {
    /// A running trainer on `config`, timed by `clock`.
    pub fn new(config: RunConfig, clock: Box<dyn Clock>) -> Result<Self, super::ConfigError> {
        let session = Session::new(config)?;
        let now = clock.now();
        let mut trainer = Self {
            session,
            snapshotter: Snapshotter::new(DEFAULT_GRID_RESOLUTION),
            fork: None,
            b_snapshotter: Snapshotter::new(DEFAULT_GRID_RESOLUTION),
            seeds: None,
            seeds_round: 1,
            last_seeds_view: None,
            pair_round: 16,
            threads: available_threads(),
            clock,
            replay: None,
            is_running: true,
            steps_left: None,
            speed: Speed::Max,
            report_stride: DEFAULT_REPORT_EVERY,
            last_report: now,
            paced_from: (now, 0),
            last_snapshot: None,
            is_snapshot_due: true,
            outbox: VecDeque::new(),
            latest: None,
            has_new_snapshot: false,
        };
        trainer.report();
        Ok(trainer)
    }

    /// The session (for tests and the in-frame backend's readers).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Replays the run to find how `neuron` died, and sends the answer.
    fn autopsy(&mut self, neuron: NeuronRef) {
        let result = neuron_autopsy(&self.session, neuron).map(Box::new).map_err(|error| error.to_string());
        self.push(TrainerEvent::Autopsy { neuron, result });
    }

    /// Branch B, while the run is compared with a fork of itself.
    pub fn branch_b(&self) -> Option<&Fork> {
        self.fork.as_ref()
    }

    /// The seeds view, while open.
    pub fn seeds(&self) -> Option<&SeedsRun> {
        self.seeds.as_ref()
    }

    /// Whether the trainer is training (or replaying).
    pub fn is_running(&self) -> bool {
        self.is_running
    }

    /// Applies a command now.
    pub fn handle(&mut self, command: WorkerCommand) {
        self.is_snapshot_due = true;
        match command {
            WorkerCommand::Session(command) => self.apply_to(Target::Both, command),
            WorkerCommand::OnBranch { target, command } => self.apply_to(target, command),
            WorkerCommand::Pause => self.set_running(false),
            WorkerCommand::Resume => {
                self.steps_left = None;
                if self.can_train() {
                    self.set_running(true);
                }
            }
            WorkerCommand::Step(count) => {
                self.steps_left = Some(count);
                self.set_running(true);
            }
            WorkerCommand::SetSpeed(speed) => {
                self.speed = speed;
                self.paced_from = (self.clock.now(), self.progress_step());
            }
            WorkerCommand::Load(config) => match Session::new(*config) {
                Ok(session) => self.replace_session(session),
                Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot load that run: {error}"))),
            },
            WorkerCommand::LoadRecord(record) => self.start_replay(&record, false),
            WorkerCommand::ReplayLive(record) => self.start_replay(&record, true),
            WorkerCommand::LoadNetwork(file) => match Session::from_network_file(&file) {
                Ok(session) => self.replace_session(session),
                Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot load that network: {error}"))),
            },
            WorkerCommand::Rewind { step, then } => self.rewind(step, then),
            WorkerCommand::Fork { changes } => self.fork_now(changes),
            WorkerCommand::CompareFromStart { changes } => self.compare_from_start(changes),
            WorkerCommand::Keep(branch) => self.keep(branch),
            WorkerCommand::OpenSeeds { count } => self.open_seeds(count),
            WorkerCommand::OpenSeed(index) => self.open_seed(index),
            WorkerCommand::CloseSeeds => {
                self.seeds = None;
                self.paced_from = (self.clock.now(), self.progress_step());
            }
            WorkerCommand::RequestRecord => {
                let mut record = match &self.fork {
                    Some(fork) => fork.record(&self.session),
                    None => self.session.record(),
                };
                record.report_every = Some(DEFAULT_REPORT_EVERY);
                if let Some(fork) = &mut record.fork {
                    fork.b.report_every = Some(DEFAULT_REPORT_EVERY);
                }
                self.push(TrainerEvent::Record(Box::new(record)));
            }
            WorkerCommand::RequestSnapshot => {}
            WorkerCommand::Autopsy(neuron) => self.autopsy(neuron),
            WorkerCommand::InjectPanic => panic!("injected panic (test)"),
        }
    }

    /// Trains (or replays) until `deadline`, publishing snapshots and history on the way.
    /// Never blocks.
    pub fn tick(&mut self, deadline: Instant) -> Tick {
        loop {
            if !self.is_running {
                self.publish_if_due();
                // A snapshot asked for within the interval of the last one comes a bit later.
                return match self.last_snapshot.filter(|_| self.is_snapshot_due) {
                    Some(last) => Tick::WaitUntil(last + SNAPSHOT_INTERVAL),
                    None => Tick::Idle,
                };
            }
            if let Some(due) = self.next_step_due() {
                self.publish_if_due();
                return Tick::WaitUntil(due);
            }
            self.step_once();
            self.publish_if_due();
            if self.clock.now() >= deadline {
                return Tick::Busy;
            }
        }
    }

    /// The oldest waiting event, if any.
    pub fn next_event(&mut self) -> Option<TrainerEvent> {
        self.outbox.pop_front()
    }

    /// Puts back an event [`Trainer::next_event`] gave that could not be delivered: it stays
    /// first in line.
    pub fn put_back(&mut self, event: TrainerEvent) {
        self.outbox.push_front(event);
    }

    /// Whether events are waiting.
    pub fn has_events(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// The snapshot published since the last call, if any.
    pub fn take_new_snapshot(&mut self) -> Option<Arc<Snapshot>> {
        if !self.has_new_snapshot {
            return None;
        }
        self.has_new_snapshot = false;
        self.latest.clone()
    }

    /// When the next step is due under the chosen speed, if it is not due now.
    fn next_step_due(&self) -> Option<Instant> {
        let is_fast_replay = self.replay.as_ref().is_some_and(|replay| !replay.is_live);
        match self.speed {
            Speed::Max => None,
            Speed::StepsPerSecond(_) if is_fast_replay => None,
            Speed::StepsPerSecond(rate) => {
                let (since, first_step) = self.paced_from;
                let done = self.progress_step().saturating_sub(first_step);
                let due = since + Duration::from_secs_f64(done as f64 / rate.max(1e-3));
                (self.clock.now() < due).then_some(due)
            }
        }
    }

    /// Makes one step: of the seeds view if it is open, else of the replay if one is in
    /// progress, else of the run (and of B, in lockstep, while comparing).
    fn step_once(&mut self) {
        if self.seeds.is_some() {
            self.step_seeds();
            return;
        }
        if self.replay.is_some() {
            self.step_replay();
            return;
        }
        if let Some((a, b)) = self.step_pair_quietly() {
            if let Some(StepOutcome::Diverged(divergence)) = b {
                self.on_b_divergence(divergence);
            }
            if let Some(StepOutcome::Diverged(divergence)) = a {
                self.on_divergence(divergence);
            }
            return;
        }
        let a = (self.session.divergence().is_none()).then(|| self.session.step());
        let b = self.fork.as_mut().filter(|fork| fork.b().divergence().is_none()).map(|fork| fork.b_mut().step());
        self.after_lockstep(a, b);
    }

    /// At full speed while comparing: the steps up to (not including) the next report of
    /// either branch, A and B each on its own thread. The branches are independent between
    /// commands, so this gives the same bits as stepping them in turn. Returns how each branch
    /// that diverged on the way did (`None` for one that went on), or `None` when there was
    /// nothing to do quietly.
    fn step_pair_quietly(&mut self) -> Option<(Option<StepOutcome>, Option<StepOutcome>)> {
        let fork = self.fork.as_mut()?;
        if self.speed != Speed::Max || self.replay.is_some() {
            return None;
        }
        let stride = self.report_stride;
        let until_report =
            |session: &Session| (session.divergence().is_none()).then(|| stride - session.step_count() % stride);
        let room = [until_report(&self.session), until_report(fork.b())]
            .into_iter()
            .flatten()
            .min()?
            .min(self.pair_round)
            .min(self.steps_left.unwrap_or(u64::MAX));
        // The last step before a report is made in the open, so the report follows it.
        let quiet = room.saturating_sub(1);
        if quiet == 0 {
            return None;
        }
        let started = self.clock.now();
        let (a, b) = step_both(&mut self.session, fork.b_mut(), quiet, self.threads);
        let took = self.clock.now().saturating_duration_since(started);
        if took < PAIR_ROUND_TARGET / 2 && self.pair_round < MAX_PAIR_ROUND {
            self.pair_round *= 2;
        } else if took > PAIR_ROUND_TARGET * 2 && self.pair_round > 2 {
            self.pair_round /= 2;
        }
        if let Some(left) = &mut self.steps_left {
            *left -= quiet;
        }
        Some((a, b))
    }

    /// After a step of A (and B): reports, divergences, and the step budget.
    fn after_lockstep(&mut self, a: Option<StepOutcome>, b: Option<StepOutcome>) {
        if self.fork.is_none() {
            match a {
                Some(StepOutcome::Trained { .. }) => self.after_trained_step(),
                Some(StepOutcome::Diverged(divergence)) => self.on_divergence(divergence),
                None => {}
            }
            return;
        }
        let stride = self.report_stride;
        if matches!(a, Some(StepOutcome::Trained { .. })) && self.session.step_count().is_multiple_of(stride) {
            self.report_a();
            self.adapt_report_stride();
        }
        if matches!(b, Some(StepOutcome::Trained { .. }))
            && let Some(fork) = &self.fork
            && fork.b().step_count().is_multiple_of(stride)
        {
            self.report_b();
            if self.session.divergence().is_some() {
                self.adapt_report_stride();
            }
        }
        if let Some(StepOutcome::Diverged(divergence)) = b {
            self.on_b_divergence(divergence);
        }
        match a {
            Some(StepOutcome::Diverged(divergence)) => self.on_divergence(divergence),
            _ if a.is_some() || b.is_some() => self.count_down_steps(),
            _ => self.set_running(false),
        }
    }

    /// One round of the seeds view: as many lockstep steps as take about
    /// [`SEEDS_ROUND_TARGET`] at full speed, one when paced or stepping.
    fn step_seeds(&mut self) {
        let Some(seeds) = &mut self.seeds else { return };
        if seeds.is_finished() {
            self.set_running(false);
            return;
        }
        let is_paced = matches!(self.speed, Speed::StepsPerSecond(_));
        let round = if is_paced { 1 } else { self.seeds_round.min(self.steps_left.unwrap_or(u64::MAX)).max(1) };
        let started = self.clock.now();
        seeds.step_all(round, self.threads);
        let took = self.clock.now().saturating_duration_since(started);
        if !is_paced {
            if took < SEEDS_ROUND_TARGET / 2 && self.seeds_round < MAX_SEEDS_ROUND {
                self.seeds_round *= 2;
            } else if took > SEEDS_ROUND_TARGET * 2 && self.seeds_round > 1 {
                self.seeds_round /= 2;
            }
        }
        if let Some(left) = &mut self.steps_left {
            *left = left.saturating_sub(round);
            if *left == 0 {
                self.steps_left = None;
                self.is_snapshot_due = true;
                self.set_running(false);
            }
        }
    }

    /// One step of the replay (of both branches, after a comparison's fork).
    fn step_replay(&mut self) {
        let Some(replay) = self.replay.as_mut() else { return };
        match replay.cursor.next(&mut self.session, &mut self.fork) {
            Ok(Some(ComparisonStep::Single(step))) => {
                let outcome = self.take_replay_step(step, false);
                self.after_lockstep(outcome, None);
            }
            Ok(Some(ComparisonStep::Forked { a, b })) => {
                for annotation in a {
                    self.push(TrainerEvent::Annotation(annotation));
                }
                self.announce_fork();
                for annotation in b {
                    self.push(TrainerEvent::BranchAnnotation(annotation));
                }
            }
            Ok(Some(ComparisonStep::Both { a, b })) => {
                let a = a.and_then(|step| self.take_replay_step(step, false));
                let b = b.and_then(|step| self.take_replay_step(step, true));
                self.after_lockstep(a, b);
            }
            Ok(None) => self.finish_replay(),
            Err(error) => {
                self.replay = None;
                self.push(TrainerEvent::CommandRefused(format!("the replay stopped: {error}")));
                self.set_running(false);
            }
        }
    }

    /// Passes a replayed step's annotations on (as B's if `is_b`) and gives its outcome.
    fn take_replay_step(&mut self, step: ReplayStep, is_b: bool) -> Option<StepOutcome> {
        for annotation in step.annotations {
            let event =
                if is_b { TrainerEvent::BranchAnnotation(annotation) } else { TrainerEvent::Annotation(annotation) };
            self.push(event);
        }
        step.outcome
    }

    fn after_trained_step(&mut self) {
        if self.session.step_count().is_multiple_of(self.report_stride) {
            self.report();
            self.adapt_report_stride();
        }
        self.count_down_steps();
    }

    /// Counts a step of a [`WorkerCommand::Step`] budget; pauses when it is spent.
    fn count_down_steps(&mut self) {
        if let Some(left) = &mut self.steps_left {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.steps_left = None;
                self.is_snapshot_due = true;
                self.set_running(false);
            }
        }
    }

    /// B diverged: say so and pause; A can go on alone after a resume.
    fn on_b_divergence(&mut self, divergence: Divergence) {
        self.report_b();
        if self.replay.as_ref().is_some_and(|replay| !replay.cursor.is_finished()) {
            return;
        }
        self.push(TrainerEvent::Notice(format!(
            "Branch B diverged at its step {}: {}. B stops there; A goes on when you resume.",
            divergence.step,
            divergence.cause.describe()
        )));
        self.is_snapshot_due = true;
        self.set_running(false);
    }

    fn on_divergence(&mut self, divergence: Divergence) {
        self.report();
        // A replay may go on: the record has the commands the live run received then.
        if self.replay.as_ref().is_some_and(|replay| !replay.cursor.is_finished()) {
            return;
        }
        self.push(TrainerEvent::Diverged(divergence));
        self.is_snapshot_due = true;
        self.set_running(false);
    }

    fn start_replay(&mut self, record: &RunRecord, is_live: bool) {
        match ComparisonCursor::start(record) {
            Ok((session, cursor)) => {
                let is_running_after = self.is_running;
                self.replace_session(session);
                self.replay = Some(Replay { cursor, is_live, is_running_after });
                self.steps_left = None;
                self.set_running(true);
            }
            Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot replay that record: {error}"))),
        }
    }

    /// The record's end: say whether the bits match; a live replay pauses there.
    fn finish_replay(&mut self) {
        let Some(replay) = self.replay.take() else { return };
        let step = self.session.step_count();
        if !step.is_multiple_of(self.report_stride) {
            self.report();
        }
        let verdict = match replay.cursor.verify(&self.session, self.fork.as_ref()) {
            (a, None) => a.describe(),
            (a, Some(b)) => format!("A: {}; B: {}", a.describe(), b.describe()),
        };
        self.push(TrainerEvent::Notice(format!("Replayed the record to step {step}: {verdict}.")));
        self.is_snapshot_due = true;
        // A fast replay is not paced: the chosen speed counts from here, not from step 0.
        self.paced_from = (self.clock.now(), step);
        if let Some(divergence) = self.session.divergence() {
            self.push(TrainerEvent::Diverged(divergence));
            self.set_running(false);
        } else if replay.is_live || !replay.is_running_after {
            self.set_running(false);
        }
    }

    /// A change by the user during a replay ends the replay: the run goes on from here.
    fn end_replay_for_a_change(&mut self) {
        if self.replay.take().is_some() {
            let step = self.session.step_count();
            self.paced_from = (self.clock.now(), step);
            self.push(TrainerEvent::Notice(format!(
                "The replay stopped at step {step} because you changed the run; it goes on from here."
            )));
        }
    }

    fn rewind(&mut self, step: u64, then: Vec<SessionCommand>) {
        if self.fork.is_some() || self.seeds.is_some() {
            self.push(TrainerEvent::CommandRefused(
                "going back to a checkpoint works on one run: keep A or B (or close the seeds view) first".to_owned(),
            ));
            return;
        }
        self.end_replay_for_a_change();
        let from_divergence = self.session.divergence().map(|divergence| divergence.step);
        match self.session.rewind(step) {
            Some(at) => {
                self.push(TrainerEvent::Rewound { step: at, from_divergence });
                for command in then {
                    self.apply(command);
                }
                self.report();
                self.paced_from = (self.clock.now(), self.session.step_count());
                self.set_running(false);
            }
            None => self.push(TrainerEvent::CommandRefused(format!("there is no checkpoint at or before step {step}"))),
        }
    }

    /// Starts over on `session`: a new run, its first history point. A comparison or the
    /// seeds view ends.
    fn replace_session(&mut self, session: Session) {
        self.session = session;
        self.snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
        self.replay = None;
        self.fork = None;
        self.seeds = None;
        self.push(TrainerEvent::NewRun(Box::new(self.session.config().clone())));
        self.report();
        self.paced_from = (self.clock.now(), self.session.step_count());
        self.report_stride = DEFAULT_REPORT_EVERY;
    }

    /// Applies a live command where it belongs: to the run; while comparing, to the branches
    /// `target` names; while the seeds view is open, to those branches in every seed.
    fn apply_to(&mut self, target: Target, command: SessionCommand) {
        self.end_replay_for_a_change();
        if let Some(seeds) = &mut self.seeds {
            if let Err(message) = seeds.apply(target, &command) {
                self.push(TrainerEvent::CommandRefused(message));
            }
            return;
        }
        if self.fork.is_none() {
            self.apply(command);
            return;
        }
        if matches!(command, SessionCommand::Reset { .. }) {
            self.restart_comparison(command);
            return;
        }
        if target.reaches(Branch::A) {
            if command.resets_network() {
                let error = super::compare::ForkError::RebuildA;
                self.push(TrainerEvent::CommandRefused(error.to_string()));
                return;
            }
            self.apply(command.clone());
        }
        if target.reaches(Branch::B)
            && let Some(fork) = &mut self.fork
        {
            let generation = fork.b().network_generation();
            match fork.apply_to_b(&self.session, command) {
                Ok(annotation) => {
                    let restarted = self.fork.as_ref().is_some_and(|fork| fork.b().network_generation() != generation);
                    if restarted {
                        self.announce_fork();
                    }
                    self.push(TrainerEvent::BranchAnnotation(annotation));
                }
                Err(error) => self.push(TrainerEvent::CommandRefused(error.to_string())),
            }
        }
    }

    /// Reset while comparing: A starts over (on its settings, or the seed given) and forks at
    /// once, B taking again every difference it had from A.
    fn restart_comparison(&mut self, reset: SessionCommand) {
        let Some(fork) = self.fork.take() else { return };
        let b_config = fork.b().config().clone();
        self.apply(reset);
        let mut changes = commands_between(self.session.config(), &b_config);
        // The new seed is A's; B keeps its other differences.
        changes.retain(|command| !matches!(command, SessionCommand::Reset { .. }));
        self.fork_now(changes);
    }

    /// Forks the run now; B takes `changes`.
    fn fork_now(&mut self, changes: Vec<SessionCommand>) {
        if self.seeds.is_some() {
            self.push(TrainerEvent::CommandRefused("close the seeds view before forking the run".to_owned()));
            return;
        }
        if self.fork.is_some() {
            self.push(TrainerEvent::CommandRefused("the run is already forked: keep A or B first".to_owned()));
            return;
        }
        self.end_replay_for_a_change();
        match Fork::new(&self.session, changes) {
            Ok((fork, annotations)) => {
                self.fork = Some(fork);
                self.b_snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
                self.announce_fork();
                for annotation in annotations {
                    self.push(TrainerEvent::BranchAnnotation(annotation));
                }
                self.is_snapshot_due = true;
            }
            Err(error) => self.push(TrainerEvent::CommandRefused(error.to_string())),
        }
    }

    /// Tells the UI where B forked (a restarted B gets its first history point too).
    fn announce_fork(&mut self) {
        let Some(fork) = &self.fork else { return };
        let (step, b_restarted) = (fork.point().step, fork.point().b_restarted);
        self.push(TrainerEvent::Forked { step, b_restarted });
        if b_restarted {
            self.report_b();
        }
    }

    /// Starts the run over at step 0 on its current settings and forks it there.
    fn compare_from_start(&mut self, changes: Vec<SessionCommand>) {
        if self.seeds.is_some() {
            self.push(TrainerEvent::CommandRefused("close the seeds view before forking the run".to_owned()));
            return;
        }
        self.end_replay_for_a_change();
        self.fork = None;
        self.apply(SessionCommand::Reset { seed: None });
        self.fork_now(changes);
    }

    /// Ends the comparison, going on with `branch`.
    fn keep(&mut self, branch: Branch) {
        let Some(fork) = self.fork.take() else {
            self.push(TrainerEvent::CommandRefused("there is no comparison to end".to_owned()));
            return;
        };
        self.end_replay_for_a_change();
        if branch == Branch::B {
            self.session = fork.into_b();
            std::mem::swap(&mut self.snapshotter, &mut self.b_snapshotter);
        }
        self.push(TrainerEvent::ComparisonEnded { kept: branch });
        self.paced_from = (self.clock.now(), self.session.step_count());
        self.is_snapshot_due = true;
    }

    /// Opens the seeds view on the current settings (forked as the comparison is).
    fn open_seeds(&mut self, count: usize) {
        self.end_replay_for_a_change();
        let plan = self.fork.as_ref().map(|fork| {
            let at = if fork.point().b_restarted { 0 } else { fork.point().step };
            (at, commands_between(self.session.config(), fork.b().config()))
        });
        let last = FIRST_SEED + count.clamp(1, MAX_SEEDS) as u64 - 1;
        match SeedsRun::new(self.session.config(), FIRST_SEED..=last, plan) {
            Ok(seeds) => {
                self.seeds = Some(seeds);
                self.seeds_round = 1;
                self.last_seeds_view = None;
                self.paced_from = (self.clock.now(), 0);
                self.is_snapshot_due = true;
            }
            Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot open the seeds view: {error}"))),
        }
    }

    /// Makes seed lane `index` the run (and its B the comparison's).
    fn open_seed(&mut self, index: usize) {
        let Some(lane) = self.seeds.take().and_then(|seeds| seeds.into_lane(index)) else {
            self.push(TrainerEvent::CommandRefused(format!("there is no seed number {}", index + 1)));
            return;
        };
        self.replace_session(lane.a);
        if let Some(fork) = lane.fork {
            self.fork = Some(fork);
            self.b_snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
            let step = self.fork.as_ref().map_or(0, |fork| fork.point().step);
            self.push(TrainerEvent::Forked { step, b_restarted: true });
            self.report_b();
        }
    }

    /// Whether a resume can train anything: the seeds view, or a branch that has not diverged.
    fn can_train(&self) -> bool {
        match (&self.seeds, &self.fork) {
            (Some(seeds), _) => !seeds.is_finished(),
            (None, Some(fork)) => self.session.divergence().is_none() || fork.b().divergence().is_none(),
            (None, None) => self.session.divergence().is_none(),
        }
    }

    /// The step count the speed is counted in: the seeds view's while it is open, else the run's.
    fn progress_step(&self) -> u64 {
        self.seeds.as_ref().map_or_else(|| self.session.step_count(), SeedsRun::step_count)
    }

    fn apply(&mut self, command: SessionCommand) {
        let generation = self.session.network_generation();
        match self.session.apply(command) {
            Ok(annotation) => {
                let is_new_run = self.session.network_generation() != generation;
                if is_new_run {
                    self.push(TrainerEvent::NewRun(Box::new(self.session.config().clone())));
                    self.paced_from = (self.clock.now(), 0);
                    self.report_stride = DEFAULT_REPORT_EVERY;
                }
                self.push(TrainerEvent::Annotation(annotation));
                if is_new_run {
                    self.report();
                }
            }
            Err(error) => self.push(TrainerEvent::CommandRefused(error.to_string())),
        }
    }

    /// Pauses or resumes. Resuming counts the speed from now, so a pause is never made up
    /// for by a burst of steps.
    fn set_running(&mut self, is_running: bool) {
        if self.is_running != is_running {
            self.is_running = is_running;
            if is_running {
                self.paced_from = (self.clock.now(), self.progress_step());
            }
            self.push(TrainerEvent::Running(is_running));
        }
    }

    fn adapt_report_stride(&mut self) {
        let now = self.clock.now();
        let gap = now.saturating_duration_since(self.last_report);
        self.last_report = now;
        if gap < MIN_REPORT_GAP && self.report_stride < MAX_REPORT_STRIDE {
            self.report_stride *= 2;
        } else if gap > 10 * MIN_REPORT_GAP && self.report_stride > DEFAULT_REPORT_EVERY {
            self.report_stride /= 2;
        }
    }

    /// Evaluates and emits a history point (of each branch, while comparing).
    fn report(&mut self) {
        self.report_a();
        if self.fork.is_some() {
            self.report_b();
        }
    }

    /// A's history point.
    fn report_a(&mut self) {
        let evaluation = self.session.evaluate();
        self.snapshotter.track(&self.session);
        self.push(TrainerEvent::History(HistoryPoint::from_evaluation(&evaluation)));
    }

    /// B's history point.
    fn report_b(&mut self) {
        let Some(fork) = &mut self.fork else { return };
        let evaluation = fork.b_mut().evaluate();
        self.b_snapshotter.track(fork.b());
        self.push(TrainerEvent::BranchHistory(HistoryPoint::from_evaluation(&evaluation)));
    }

    fn publish_if_due(&mut self) {
        let now = self.clock.now();
        let interval_passed =
            self.last_snapshot.is_none_or(|at| now.saturating_duration_since(at) >= SNAPSHOT_INTERVAL);
        if !(interval_passed && (self.is_running || self.is_snapshot_due)) {
            return;
        }
        let evaluation = self.session.evaluate();
        let mut snapshot = self.snapshotter.snapshot(&self.session, &evaluation);
        if let Some(fork) = &mut self.fork {
            let evaluation = fork.b_mut().evaluate();
            snapshot.branch_b = Some(Arc::new(self.b_snapshotter.snapshot(fork.b(), &evaluation)));
            snapshot.fork = Some(fork.info(&self.session));
        }
        snapshot.seeds = self.seeds_view(now);
        self.latest = Some(Arc::new(snapshot));
        self.has_new_snapshot = true;
        self.last_snapshot = Some(now);
        self.is_snapshot_due = false;
    }

    /// The seeds view for a snapshot: a new one at most every [`SEEDS_VIEW_INTERVAL`] (each
    /// evaluates every lane), else the last one again.
    fn seeds_view(&mut self, now: Instant) -> Option<Arc<super::seeds::SeedsView>> {
        let seeds = self.seeds.as_mut()?;
        let last = self.latest.as_ref().and_then(|latest| latest.seeds.clone());
        let is_due = self.last_seeds_view.is_none_or(|at| now.saturating_duration_since(at) >= SEEDS_VIEW_INTERVAL);
        if let Some(last) = last.filter(|_| !is_due) {
            return Some(last);
        }
        self.last_seeds_view = Some(now);
        Some(Arc::new(seeds.view()))
    }

    /// Queues an event. When the UI falls behind, waiting history points are merged in pairs,
    /// so the queue stays bounded and nothing is silently dropped.
    fn push(&mut self, event: TrainerEvent) {
        if matches!(event, TrainerEvent::NewRun(_)) {
            // The old run's waiting points would be cleared by the UI anyway.
            self.outbox.retain(|waiting| !matches!(waiting, TrainerEvent::History(_) | TrainerEvent::BranchHistory(_)));
        }
        self.outbox.push_back(event);
        if self.outbox.len() > MAX_WAITING_EVENTS {
            compact(&mut self.outbox);
        }
    }
}

/// Merges history points in pairs, each with the one before it of the same branch, as long
/// as no other event (an annotation, a fork) lies between them; the rest stays as it is.
fn compact(outbox: &mut VecDeque<TrainerEvent>) {
    let mut compacted: VecDeque<TrainerEvent> = VecDeque::with_capacity(outbox.len() / 2 + 1);
    // Where in `compacted` the last unmerged point of A and of B sit.
    let mut open: [Option<usize>; 2] = [None, None];
    for event in outbox.drain(..) {
        let (branch, later) = match &event {
            TrainerEvent::History(point) => (0, point),
            TrainerEvent::BranchHistory(point) => (1, point),
            _ => {
                open = [None, None];
                compacted.push_back(event);
                continue;
            }
        };
        if let Some(index) = open[branch]
            && let Some(TrainerEvent::History(earlier) | TrainerEvent::BranchHistory(earlier)) =
                compacted.get_mut(index)
            && earlier.span == later.span
        {
            *earlier = earlier.merged(later);
            open[branch] = None;
            continue;
        }
        open[branch] = Some(compacted.len());
        compacted.push_back(event);
    }
    *outbox = compacted;
}

/// `steps` steps of `a` and of `b` (each stops where it diverges), at once when `threads`
/// allows. Returns how each branch's last step went, if it diverged.
fn step_both(
    a: &mut Session,
    b: &mut Session,
    steps: u64,
    threads: usize,
) -> (Option<StepOutcome>, Option<StepOutcome>) {
    let run = |session: &mut Session| {
        for _ in 0..steps {
            if session.divergence().is_some() {
                return None;
            }
            if let outcome @ StepOutcome::Diverged(_) = session.step() {
                return Some(outcome);
            }
        }
        None
    };
    #[cfg(not(target_arch = "wasm32"))]
    if threads > 1 {
        return std::thread::scope(|scope| {
            let b_thread = scope.spawn(|| run(b));
            let a_outcome = run(a);
            // A panic on B's thread is a panic of the trainer, as it would be on this one.
            let b_outcome = b_thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (a_outcome, b_outcome)
        });
    }
    let _ = threads;
    (run(a), run(b))
}

/// The threads the seeds view may use: one per core (none besides this one on the web).
fn available_threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::clock::ManualClock;

    fn trainer_with_clock() -> (Trainer, ManualClock) {
        let clock = ManualClock::default();
        let trainer = Trainer::new(RunConfig::default(), Box::new(clock.clone())).unwrap();
        (trainer, clock)
    }

    #[test]
    fn resuming_after_a_pause_does_not_make_up_for_the_pause() {
        let (mut trainer, clock) = trainer_with_clock();
        trainer.handle(WorkerCommand::SetSpeed(Speed::StepsPerSecond(100.0)));
        // The deadline is never reached on a clock that stands still: each tick trains until
        // the pace says wait.
        let far = Duration::from_hours(1);
        for _ in 0..100 {
            clock.advance(Duration::from_millis(10));
            assert!(matches!(trainer.tick(clock.now() + far), Tick::WaitUntil(_)));
        }
        let before_pause = trainer.session().step_count();
        assert!((99..=101).contains(&before_pause), "{before_pause}");
        trainer.handle(WorkerCommand::Pause);
        clock.advance(Duration::from_secs(20));
        assert_eq!(trainer.tick(clock.now() + far), Tick::Idle);
        trainer.handle(WorkerCommand::Resume);
        clock.advance(Duration::from_millis(300));
        trainer.tick(clock.now() + far);
        let after = trainer.session().step_count() - before_pause;
        assert!((30..=32).contains(&after), "0.3 s at 100 steps/s made {after} steps");
    }

    #[test]
    fn a_slow_ui_gets_merged_history_not_a_growing_queue() {
        let (mut trainer, clock) = trainer_with_clock();
        // 20 ms a step keeps the reporting interval at 20 steps: 10,000 points nobody reads.
        for _ in 0..200_000 {
            clock.advance(Duration::from_millis(20));
            trainer.step_once();
        }
        assert!(trainer.outbox.len() <= MAX_WAITING_EVENTS, "{}", trainer.outbox.len());
        let spans: u64 = trainer
            .outbox
            .iter()
            .filter_map(
                |event| if let TrainerEvent::History(point) = event { Some(u64::from(point.span)) } else { None },
            )
            .sum();
        assert_eq!(spans, 200_000 / DEFAULT_REPORT_EVERY + 1, "every point is in a merged one");
    }
}
