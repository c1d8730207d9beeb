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

use super::clock::{Clock, Instant};
use super::command::{Annotation, Divergence, SessionCommand};
use super::config::RunConfig;
use super::export::NetworkFile;
use super::history::HistoryPoint;
use super::record::RunRecord;
use super::replay::ReplayCursor;
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
    /// Send the run record so far ([`TrainerEvent::Record`]).
    RequestRecord,
    /// Publish a snapshot now, even when paused.
    RequestSnapshot,
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
    cursor: ReplayCursor,
    /// Live (paced, pausing at the end) or as fast as possible.
    is_live: bool,
    /// A fast replay ends running only if the run was running when it started.
    is_running_after: bool,
}

/// The trainer: the session, its replay cursor, pacing, reporting, and what waits for the UI.
pub struct Trainer {
    session: Session,
    snapshotter: Snapshotter,
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

    /// Whether the trainer is training (or replaying).
    pub fn is_running(&self) -> bool {
        self.is_running
    }

    /// Applies a command now.
    pub fn handle(&mut self, command: WorkerCommand) {
        self.is_snapshot_due = true;
        match command {
            WorkerCommand::Session(command) => {
                self.end_replay_for_a_change();
                self.apply(command);
            }
            WorkerCommand::Pause => self.set_running(false),
            WorkerCommand::Resume => {
                self.steps_left = None;
                if self.session.divergence().is_none() {
                    self.set_running(true);
                }
            }
            WorkerCommand::Step(count) => {
                self.steps_left = Some(count);
                self.set_running(true);
            }
            WorkerCommand::SetSpeed(speed) => {
                self.speed = speed;
                self.paced_from = (self.clock.now(), self.session.step_count());
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
            WorkerCommand::RequestRecord => {
                let mut record = self.session.record();
                record.report_every = Some(DEFAULT_REPORT_EVERY);
                self.push(TrainerEvent::Record(Box::new(record)));
            }
            WorkerCommand::RequestSnapshot => {}
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
                let done = self.session.step_count().saturating_sub(first_step);
                let due = since + Duration::from_secs_f64(done as f64 / rate.max(1e-3));
                (self.clock.now() < due).then_some(due)
            }
        }
    }

    /// Makes one step (of the replay, if one is in progress).
    fn step_once(&mut self) {
        let outcome = match self.replay.as_mut() {
            Some(replay) => match replay.cursor.next(&mut self.session) {
                Ok(Some(step)) => {
                    for annotation in step.annotations {
                        self.push(TrainerEvent::Annotation(annotation));
                    }
                    step.outcome
                }
                Ok(None) => {
                    self.finish_replay();
                    return;
                }
                Err(error) => {
                    self.replay = None;
                    self.push(TrainerEvent::CommandRefused(format!("the replay stopped: {error}")));
                    self.set_running(false);
                    return;
                }
            },
            None => Some(self.session.step()),
        };
        match outcome {
            Some(StepOutcome::Trained { .. }) => self.after_trained_step(),
            Some(StepOutcome::Diverged(divergence)) => self.on_divergence(divergence),
            None => {}
        }
    }

    fn after_trained_step(&mut self) {
        if self.session.step_count().is_multiple_of(self.report_stride) {
            self.report();
            self.adapt_report_stride();
        }
        if let Some(left) = &mut self.steps_left {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.steps_left = None;
                self.is_snapshot_due = true;
                self.set_running(false);
            }
        }
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
        match ReplayCursor::start(record) {
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
        let verdict = replay.cursor.verify(&self.session).describe();
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

    /// Starts over on `session`: a new run, its first history point.
    fn replace_session(&mut self, session: Session) {
        self.session = session;
        self.snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
        self.replay = None;
        self.push(TrainerEvent::NewRun(Box::new(self.session.config().clone())));
        self.report();
        self.paced_from = (self.clock.now(), self.session.step_count());
        self.report_stride = DEFAULT_REPORT_EVERY;
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
                self.paced_from = (self.clock.now(), self.session.step_count());
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

    /// Evaluates and emits a history point.
    fn report(&mut self) {
        let evaluation = self.session.evaluate();
        self.snapshotter.track(&self.session);
        self.push(TrainerEvent::History(HistoryPoint::from_evaluation(&evaluation)));
    }

    fn publish_if_due(&mut self) {
        let now = self.clock.now();
        let interval_passed =
            self.last_snapshot.is_none_or(|at| now.saturating_duration_since(at) >= SNAPSHOT_INTERVAL);
        if !(interval_passed && (self.is_running || self.is_snapshot_due)) {
            return;
        }
        let evaluation = self.session.evaluate();
        self.latest = Some(Arc::new(self.snapshotter.snapshot(&self.session, &evaluation)));
        self.has_new_snapshot = true;
        self.last_snapshot = Some(now);
        self.is_snapshot_due = false;
    }

    /// Queues an event. When the UI falls behind, waiting history points are merged in pairs,
    /// so the queue stays bounded and nothing is silently dropped.
    fn push(&mut self, event: TrainerEvent) {
        if matches!(event, TrainerEvent::NewRun(_)) {
            // The old run's waiting points would be cleared by the UI anyway.
            self.outbox.retain(|waiting| !matches!(waiting, TrainerEvent::History(_)));
        }
        self.outbox.push_back(event);
        if self.outbox.len() > MAX_WAITING_EVENTS {
            compact(&mut self.outbox);
        }
    }
}

/// Merges neighbouring history points in pairs (annotations and other events stay as they are).
fn compact(outbox: &mut VecDeque<TrainerEvent>) {
    let mut compacted = VecDeque::with_capacity(outbox.len() / 2 + 1);
    for event in outbox.drain(..) {
        if let TrainerEvent::History(later) = &event
            && let Some(TrainerEvent::History(earlier)) = compacted.back_mut()
            && earlier.span == later.span
        {
            *earlier = earlier.merged(later);
            continue;
        }
        compacted.push_back(event);
    }
    *outbox = compacted;
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
