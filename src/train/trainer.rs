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

use super::autopsy::{AutopsyError, NeuronAutopsy, NeuronRef, neuron_autopsy};
use super::budget::{REPORT_SHARE, SNAPSHOT_SHARE, TimeBudget};
use super::clock::{Clock, Instant};
use super::command::{Annotation, Divergence, SessionCommand};
use super::config::RunConfig;
use super::ensemble::{Applied, Branch, Ensemble, LaneDivergence, Target};
use super::export::NetworkFile;
use super::history::HistoryPoint;
use super::record::RunRecord;
use super::replay::{EnsembleCursor, LaneEvent, LaneStep, ReplayStep};
use super::seeds::{FIRST_SEED, MAX_SEEDS, SeedsState, SeedsView};
use super::session::{Session, StepOutcome};
use super::settings::commands_between;
use super::snapshot::{DEFAULT_GRID_RESOLUTION, ShownNeurons, Snapshot, Snapshotter};
use super::view::{LessonProgress, ModeView, View};

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
/// A round of lockstep steps at full speed aims to take about this long: long enough that the
/// lanes' threads pay off, short enough that commands and snapshots are never late.
const ROUND_TARGET: Duration = Duration::from_millis(3);
/// The most lockstep steps in one round.
const MAX_ROUND: u64 = 4096;

/// How fast the trainer trains.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Speed {
    /// As fast as the machine allows.
    Max,
    /// At most this many steps per second.
    StepsPerSecond(f64),
}

/// A request to the trainer: a session command, or one about the trainer itself.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// Go back to the newest checkpoint at or before `step` (in every branch and seed; the
    /// history after it is dropped), then apply `then` to `target` (for example gradient
    /// clipping for the branch that diverged). Paused afterwards.
    Rewind {
        /// The step to go back to, at most.
        step: u64,
        /// Commands to apply right after.
        then: Vec<SessionCommand>,
        /// Where `then` goes (A alone outside a comparison).
        target: Target,
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
    /// as the comparison is (if one is open), from step 0. The run itself waits meanwhile.
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
    /// Show these neurons in detail from the next snapshot on (the tiles on screen and the
    /// selected neuron); the rest of a wide layer keeps its state and figures only.
    ShowNeurons(ShownNeurons),
    /// Send the run's network now ([`TrainerEvent::Network`]).
    RequestNetwork,
    /// Play a lesson's script on the run just loaded: each beat's commands at its lesson step
    /// (the lesson counts its steps on across a comparison from step 0), pausing where a beat
    /// pauses. A resume goes on to the next beat. A load, a replay or the seeds view ends it.
    PlayScript(Vec<ScriptBeat>),
    /// Start a new run from a lesson's `config` and play its `script` from the run's first
    /// step: [`WorkerCommand::Load`] and [`WorkerCommand::PlayScript`] in one, so that no step
    /// is made between them (the script's steps are the run's).
    LoadLesson {
        /// The lesson's run.
        config: Box<RunConfig>,
        /// Its script.
        script: Vec<ScriptBeat>,
    },
    /// Panic inside the trainer (for testing how a dead worker is reported).
    #[doc(hidden)]
    InjectPanic,
}

/// What the trainer tells the UI, in order.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// The run went back to `step`: drop the history after it (B's after its own `b_step`).
    Rewound {
        /// The step it went back to.
        step: u64,
        /// B's own step then, while compared.
        b_step: Option<u64>,
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
    /// A beat of the script was reached (its commands applied): its index and the lesson's
    /// step.
    Beat {
        /// The beat's place in the script.
        index: usize,
        /// The lesson's step.
        lesson_step: u64,
    },
    /// The script stopped before its end (the run was replaced), or ended.
    ScriptEnded,
    /// The autopsy asked for: how `neuron` died, or why it could not be found.
    Autopsy {
        /// The neuron asked about.
        neuron: NeuronRef,
        /// Its latest death, or the reason there is none.
        result: Result<Box<NeuronAutopsy>, AutopsyError>,
    },
    /// The run's network asked for ([`WorkerCommand::RequestNetwork`]).
    Network(Box<NetworkFile>),
}

/// A beat of a script as the trainer plays it: commands at a lesson step, and whether to pause
/// there.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScriptBeat {
    /// The lesson's step.
    pub at: u64,
    /// What the trainer does there (a lesson's suggestion).
    pub commands: Vec<WorkerCommand>,
    /// Whether it pauses there.
    pub pause: bool,
}

/// A script being played.
#[derive(Debug)]
struct ScriptRun {
    beats: Vec<ScriptBeat>,
    /// The next beat to reach.
    next: usize,
    /// Steps made since the script began.
    lesson_step: u64,
    /// The user changed the run outside the script (said once).
    is_off_script: bool,
    /// The trainer is applying a beat's commands (they are the script's, not the user's).
    is_applying_beat: bool,
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
    cursor: EnsembleCursor,
    /// Live (paced, pausing at the end) or as fast as possible.
    is_live: bool,
    /// A fast replay ends running only if the run was running when it started.
    is_running_after: bool,
}

/// What the trainer shows and trains: one run (perhaps compared with a fork of itself), or the
/// seeds view. The ensemble holds the lanes of whichever it is.
#[derive(Debug)]
enum Mode {
    /// One seed: a run, or A and B.
    Run,
    /// K seeds side by side.
    Seeds(Box<SeedsMode>),
}

/// The seeds view's own state, and the run it was opened from.
#[derive(Debug)]
struct SeedsMode {
    state: SeedsState,
    /// The run that waits meanwhile and its last picture; `None` when the seeds came from a
    /// record (closing the view then goes on with the first seed).
    parked: Option<(Ensemble, Arc<Snapshot>)>,
    /// The newest picture of the seeds, rebuilt at most every [`SEEDS_VIEW_INTERVAL`].
    latest: Option<(Instant, Arc<SeedsView>)>,
}

/// How one branch of the run did in a round of steps.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BranchRound {
    /// It did not step (it had diverged, or does not exist).
    Idle,
    /// It stepped.
    Stepped,
    /// It diverged.
    Diverged(Divergence),
}

/// The trainer: the ensemble and its mode, the replay cursor, pacing, reporting, and what waits
/// for the UI.
pub struct Trainer {
    ensemble: Ensemble,
    mode: Mode,
    replay: Option<Replay>,
    /// A lesson's script being played, if one is.
    script: Option<ScriptRun>,
    /// The run's snapshotters, of A and B.
    snapshotters: (Snapshotter, Snapshotter),
    /// Threads a round of steps may use.
    threads: usize,
    clock: Box<dyn Clock>,
    is_running: bool,
    steps_left: Option<u64>,
    speed: Speed,
    /// Lockstep steps per round at full speed, adapted to take about [`ROUND_TARGET`].
    round: u64,
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
    latest: Option<Arc<View>>,
    has_new_snapshot: bool,
    /// What the pictures and the numbers cost, so that they keep to their share of the time.
    budgets: Budgets,
}

/// The time shares of snapshots and history points ([`super::budget`]), and the neurons the
/// viewer shows.
#[derive(Debug)]
struct Budgets {
    snapshots: TimeBudget,
    reports: TimeBudget,
    shown: ShownNeurons,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            snapshots: TimeBudget::new(SNAPSHOT_SHARE),
            reports: TimeBudget::new(REPORT_SHARE),
            shown: ShownNeurons::default(),
        }
    }
}

impl Trainer {
    /// A running trainer on `config`, timed by `clock`.
    pub fn new(config: RunConfig, clock: Box<dyn Clock>) -> Result<Self, super::ConfigError> {
        let session = Session::new(config)?;
        let now = clock.now();
        let mut trainer = Self {
            ensemble: Ensemble::from_session(session),
            mode: Mode::Run,
            replay: None,
            script: None,
            snapshotters: new_snapshotters(),
            threads: available_threads(),
            clock,
            is_running: true,
            steps_left: None,
            speed: Speed::Max,
            round: 1,
            report_stride: DEFAULT_REPORT_EVERY,
            last_report: now,
            paced_from: (now, 0),
            last_snapshot: None,
            is_snapshot_due: true,
            outbox: VecDeque::new(),
            latest: None,
            has_new_snapshot: false,
            budgets: Budgets::default(),
        };
        trainer.report();
        Ok(trainer)
    }

    /// The lanes trained now (the run's, or the seeds view's).
    pub fn ensemble(&self) -> &Ensemble {
        &self.ensemble
    }

    /// The run's branch A (in the seeds view, the first seed's).
    pub fn session(&self) -> &Session {
        self.ensemble.first().a()
    }

    /// Whether the seeds view is open.
    pub fn is_seeds_view(&self) -> bool {
        matches!(self.mode, Mode::Seeds(_))
    }

    /// Replays the run to find how `neuron` died, and sends the answer.
    fn autopsy(&mut self, neuron: NeuronRef) {
        let result = neuron_autopsy(self.session(), neuron).map(Box::new);
        self.push(TrainerEvent::Autopsy { neuron, result });
    }

    /// Whether the trainer is training (or replaying).
    pub fn is_running(&self) -> bool {
        self.is_running
    }

    /// Applies a command now.
    pub fn handle(&mut self, command: WorkerCommand) {
        self.is_snapshot_due = true;
        match command {
            WorkerCommand::Session(command) => self.apply_to(Target::Both, &command),
            WorkerCommand::OnBranch { target, command } => self.apply_to(target, &command),
            WorkerCommand::Pause => self.set_running(false),
            WorkerCommand::Resume => {
                self.steps_left = None;
                if self.can_train() {
                    self.set_running(true);
                }
            }
            WorkerCommand::PlayScript(beats) => self.play_script(beats),
            WorkerCommand::Step(count) => {
                self.steps_left = Some(count);
                self.set_running(true);
            }
            WorkerCommand::SetSpeed(speed) => {
                self.speed = speed;
                self.paced_from = (self.clock.now(), self.ensemble.step_count());
            }
            WorkerCommand::Load(config) => match Session::new(*config) {
                Ok(session) => self.replace(Ensemble::from_session(session)),
                Err(error) => self.refuse(format!("cannot load that run: {error}")),
            },
            WorkerCommand::LoadLesson { config, script } => match Session::new(*config) {
                Ok(session) => {
                    self.replace(Ensemble::from_session(session));
                    self.play_script(script);
                }
                Err(error) => self.refuse(format!("cannot load that lesson: {error}")),
            },
            WorkerCommand::LoadRecord(record) => self.start_replay(&record, false),
            WorkerCommand::ReplayLive(record) => self.start_replay(&record, true),
            WorkerCommand::LoadNetwork(file) => match Session::from_network_file(&file) {
                Ok(session) => self.replace(Ensemble::from_session(session)),
                Err(error) => self.refuse(format!("cannot load that network: {error}")),
            },
            WorkerCommand::Rewind { step, then, target } => self.rewind(step, &then, target),
            WorkerCommand::Fork { changes } => self.fork_now(&changes),
            WorkerCommand::CompareFromStart { changes } => self.compare_from_start(&changes),
            WorkerCommand::Keep(branch) => self.keep(branch),
            WorkerCommand::OpenSeeds { count } => self.open_seeds(count),
            WorkerCommand::OpenSeed(index) => self.open_seed(index),
            WorkerCommand::CloseSeeds => self.close_seeds(),
            WorkerCommand::RequestRecord => {
                let record = RunRecord::of_lanes(self.ensemble.lane_records(), Some(DEFAULT_REPORT_EVERY));
                self.push(TrainerEvent::Record(Box::new(record)));
            }
            WorkerCommand::RequestSnapshot => {}
            WorkerCommand::Autopsy(neuron) => self.autopsy(neuron),
            WorkerCommand::ShowNeurons(shown) => self.budgets.shown = shown,
            WorkerCommand::RequestNetwork => {
                let network = self.session().network_file();
                self.push(TrainerEvent::Network(Box::new(network)));
            }
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

    /// The view published since the last call, if any.
    pub fn take_new_snapshot(&mut self) -> Option<Arc<View>> {
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
                let done = self.ensemble.step_count().saturating_sub(first_step);
                let due = since + Duration::from_secs_f64(done as f64 / rate.max(1e-3));
                (self.clock.now() < due).then_some(due)
            }
        }
    }

    /// Makes one round: of the replay if one is in progress, else of the lanes in lockstep.
    fn step_once(&mut self) {
        if self.replay.is_some() {
            self.step_replay();
        } else {
            self.step_round();
        }
    }

    /// One round of lockstep steps: one when paced, else as many as take about
    /// [`ROUND_TARGET`], ending at the run's next report and at the script's next beat.
    fn step_round(&mut self) {
        if self.apply_due_beats() {
            return;
        }
        let is_paced = matches!(self.speed, Speed::StepsPerSecond(_));
        let mut steps = if is_paced { 1 } else { self.round };
        steps = steps.min(self.steps_left.unwrap_or(u64::MAX));
        if let Some(until_report) = self.steps_until_report() {
            steps = steps.min(until_report);
        }
        if let Some(until_beat) = self.steps_until_beat() {
            steps = steps.min(until_beat);
        }
        let steps = steps.max(1);
        if self.ensemble.is_finished()
            && let Some(script) = &mut self.script
        {
            // Every branch diverged: nothing trains, but the lesson goes on to its next beat
            // (as `relu-lab lessons` measures a diverged run where its script says).
            script.lesson_step += steps;
            self.apply_due_beats();
            return;
        }
        let before = self.run_branches_alive();
        let started = self.clock.now();
        let divergences = self.ensemble.step(steps, self.threads);
        if !is_paced {
            self.adapt_round(self.clock.now().saturating_duration_since(started));
        }
        match self.mode {
            Mode::Run => {
                let round = |branch: Branch, was_alive: bool| match divergence_of(&divergences, branch) {
                    Some(divergence) => BranchRound::Diverged(divergence),
                    None if was_alive => BranchRound::Stepped,
                    None => BranchRound::Idle,
                };
                let (a, b) = (round(Branch::A, before.0), round(Branch::B, before.1));
                self.after_round(a, b, steps);
            }
            Mode::Seeds(_) => {
                if self.ensemble.is_finished() {
                    self.set_running(false);
                }
                self.count_down_steps(steps);
            }
        }
        if let Some(script) = &mut self.script {
            script.lesson_step += steps;
        }
        self.apply_due_beats();
    }

    /// Starts playing `beats` on the run as it is now (a lesson just loaded): the beats due at
    /// once are applied now.
    fn play_script(&mut self, beats: Vec<ScriptBeat>) {
        self.end_replay_for_a_change();
        self.script = Some(ScriptRun { beats, next: 0, lesson_step: 0, is_off_script: false, is_applying_beat: false });
        self.apply_due_beats();
    }

    /// Steps to the script's next beat, if a script plays.
    fn steps_until_beat(&self) -> Option<u64> {
        let script = self.script.as_ref()?;
        let beat = script.beats.get(script.next)?;
        Some(beat.at.saturating_sub(script.lesson_step).max(1))
    }

    /// Applies every beat the script has reached, in order, until one pauses. Returns whether
    /// one paused.
    fn apply_due_beats(&mut self) -> bool {
        loop {
            let Some(script) = &mut self.script else { return false };
            let Some(beat) = script.beats.get(script.next) else { return false };
            if beat.at > script.lesson_step {
                return false;
            }
            let (index, lesson_step, pause) = (script.next, script.lesson_step, beat.pause);
            let commands = beat.commands.clone();
            script.next += 1;
            let is_last = script.next == script.beats.len();
            script.is_applying_beat = true;
            for command in commands {
                self.handle(command);
            }
            if let Some(script) = &mut self.script {
                script.is_applying_beat = false;
            }
            self.push(TrainerEvent::Beat { index, lesson_step });
            if is_last {
                self.script = None;
                self.push(TrainerEvent::ScriptEnded);
            }
            if pause {
                self.steps_left = None;
                self.is_snapshot_due = true;
                self.set_running(false);
                return true;
            }
        }
    }

    /// A change the script did not make: the lesson goes on, but says once that its figures
    /// were measured without it.
    fn note_user_change(&mut self) {
        if let Some(script) = &mut self.script
            && !script.is_off_script
            && !script.is_applying_beat
        {
            script.is_off_script = true;
            self.push(TrainerEvent::Notice(
                "You changed the run: the lesson goes on, but the figures its text states were measured without \
                 your change."
                    .to_owned(),
            ));
        }
    }

    /// Ends the script (the run was replaced, or went back), unless the script did it.
    fn end_script(&mut self) {
        if self.script.as_ref().is_some_and(|script| !script.is_applying_beat) {
            self.script = None;
            self.push(TrainerEvent::ScriptEnded);
        }
    }

    /// Where the script is, for the view.
    fn lesson_progress(&self) -> Option<LessonProgress> {
        let script = self.script.as_ref()?;
        Some(LessonProgress {
            lesson_step: script.lesson_step,
            next_beat: script.beats.get(script.next).map(|beat| (script.next, beat.at)),
            is_off_script: script.is_off_script,
        })
    }

    /// Whether the run's A and B can step (not diverged; B exists).
    fn run_branches_alive(&self) -> (bool, bool) {
        let lane = self.ensemble.first();
        (lane.a().divergence().is_none(), lane.b().is_some_and(|b| b.divergence().is_none()))
    }

    /// Steps until a live branch of the run reaches its next report (the run only).
    fn steps_until_report(&self) -> Option<u64> {
        if !matches!(self.mode, Mode::Run) {
            return None;
        }
        let stride = self.report_stride;
        let lane = self.ensemble.first();
        [Some(lane.a()), lane.b()]
            .into_iter()
            .flatten()
            .filter(|session| session.divergence().is_none())
            .map(|session| stride - session.step_count() % stride)
            .min()
    }

    fn adapt_round(&mut self, took: Duration) {
        if took < ROUND_TARGET / 2 && self.round < MAX_ROUND {
            self.round *= 2;
        } else if took > ROUND_TARGET * 2 && self.round > 1 {
            self.round /= 2;
        }
    }

    /// After `steps` steps of the run: reports, divergences, and the step budget.
    fn after_round(&mut self, a: BranchRound, b: BranchRound, steps: u64) {
        let stride = self.report_stride;
        let lane = self.ensemble.first();
        let a_due = a == BranchRound::Stepped && lane.a().step_count().is_multiple_of(stride);
        let b_due = b == BranchRound::Stepped && lane.b().is_some_and(|b| b.step_count().is_multiple_of(stride));
        if a_due {
            self.report_branch(Branch::A);
            self.adapt_report_stride();
        }
        if b_due {
            self.report_branch(Branch::B);
            if !matches!(a, BranchRound::Stepped) {
                self.adapt_report_stride();
            }
        }
        if let BranchRound::Diverged(divergence) = b {
            self.on_b_divergence(divergence);
        }
        match a {
            BranchRound::Diverged(divergence) => self.on_divergence(divergence),
            _ if a != BranchRound::Idle || b != BranchRound::Idle => self.count_down_steps(steps),
            _ => self.set_running(false),
        }
    }

    /// One lockstep step of the replay (of both branches, after a comparison's fork; of every
    /// seed of a seeds record).
    fn step_replay(&mut self) {
        let Some(replay) = self.replay.as_mut() else { return };
        match replay.cursor.next(&mut self.ensemble) {
            Ok(Some(events)) => {
                if matches!(self.mode, Mode::Run) {
                    self.take_replay_events(events);
                } else {
                    self.count_down_steps(1);
                }
            }
            Ok(None) => self.finish_replay(),
            Err(error) => {
                self.replay = None;
                self.refuse(format!("the replay stopped: {error}"));
                self.set_running(false);
            }
        }
    }

    /// Passes the run's replayed annotations on and reports as a live step would.
    fn take_replay_events(&mut self, events: Vec<LaneEvent>) {
        let Some(LaneEvent { step, .. }) = events.into_iter().find(|event| event.lane == 0) else { return };
        let (a, b) = match step {
            LaneStep::Single(step) => (self.take_replay_step(step, Branch::A), BranchRound::Idle),
            LaneStep::Forked { a, b } => {
                self.push_annotations(Branch::A, a);
                self.announce_fork();
                self.push_annotations(Branch::B, b);
                return;
            }
            LaneStep::Both { a, b } => {
                let a = a.map_or(BranchRound::Idle, |step| self.take_replay_step(step, Branch::A));
                let b = b.map_or(BranchRound::Idle, |step| self.take_replay_step(step, Branch::B));
                (a, b)
            }
        };
        self.after_round(a, b, 1);
    }

    /// Passes a replayed step's annotations on (as `branch`'s) and says how the step went.
    fn take_replay_step(&mut self, step: ReplayStep, branch: Branch) -> BranchRound {
        self.push_annotations(branch, step.annotations);
        match step.outcome {
            None => BranchRound::Idle,
            Some(StepOutcome::Trained { .. }) => BranchRound::Stepped,
            Some(StepOutcome::Diverged(divergence)) => BranchRound::Diverged(divergence),
        }
    }

    fn push_annotations(&mut self, branch: Branch, annotations: Vec<Annotation>) {
        for annotation in annotations {
            self.push(match branch {
                Branch::A => TrainerEvent::Annotation(annotation),
                Branch::B => TrainerEvent::BranchAnnotation(annotation),
            });
        }
    }

    /// Counts `steps` of a [`WorkerCommand::Step`] budget; pauses when it is spent.
    fn count_down_steps(&mut self, steps: u64) {
        if let Some(left) = &mut self.steps_left {
            *left = left.saturating_sub(steps);
            if *left == 0 {
                self.steps_left = None;
                self.is_snapshot_due = true;
                self.set_running(false);
            }
        }
    }

    /// B diverged: say so and pause; A can go on alone after a resume.
    fn on_b_divergence(&mut self, divergence: Divergence) {
        self.report_branch(Branch::B);
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
        match EnsembleCursor::start(record) {
            Ok((ensemble, cursor)) => {
                let is_running_after = self.is_running;
                self.replace(ensemble);
                self.replay = Some(Replay { cursor, is_live, is_running_after });
                self.steps_left = None;
                self.set_running(true);
            }
            Err(error) => self.refuse(format!("cannot replay that record: {error}")),
        }
    }

    /// The record's end: say whether the bits match; a live replay pauses there.
    fn finish_replay(&mut self) {
        let Some(replay) = self.replay.take() else { return };
        let step = self.ensemble.step_count();
        if matches!(self.mode, Mode::Run) && !self.session().step_count().is_multiple_of(self.report_stride) {
            self.report();
        }
        let verdict = replay_verdict(&replay.cursor.verify(&self.ensemble));
        self.push(TrainerEvent::Notice(format!("Replayed the record to step {step}: {verdict}.")));
        self.is_snapshot_due = true;
        // A fast replay is not paced: the chosen speed counts from here, not from step 0.
        self.paced_from = (self.clock.now(), step);
        if let (Mode::Run, Some(divergence)) = (&self.mode, self.session().divergence()) {
            self.push(TrainerEvent::Diverged(divergence));
            self.set_running(false);
        } else if replay.is_live || !replay.is_running_after {
            self.set_running(false);
        }
    }

    /// A change by the user during a replay ends the replay: the run goes on from here.
    fn end_replay_for_a_change(&mut self) {
        if self.replay.take().is_some() {
            let step = self.ensemble.step_count();
            self.paced_from = (self.clock.now(), step);
            self.push(TrainerEvent::Notice(format!(
                "The replay stopped at step {step} because you changed the run; it goes on from here."
            )));
        }
    }

    /// Goes back to a checkpoint in every branch (and seed), then applies `then` to `target`.
    fn rewind(&mut self, step: u64, then: &[SessionCommand], target: Target) {
        self.end_replay_for_a_change();
        self.end_script();
        let from_divergence = self.run_divergence().map(|divergence| divergence.step);
        match self.ensemble.rewind(step) {
            Ok(at) => {
                let b_step = self.ensemble.first().b().map(Session::step_count);
                self.push(TrainerEvent::Rewound { step: at, b_step, from_divergence });
                for command in then {
                    self.apply_to(target, command);
                }
                if matches!(self.mode, Mode::Run) {
                    self.report();
                }
                self.paced_from = (self.clock.now(), self.ensemble.step_count());
                self.set_running(false);
            }
            Err(error) => self.refuse(error.to_string()),
        }
    }

    /// The divergence of the run's A, or else of its B.
    fn run_divergence(&self) -> Option<Divergence> {
        let lane = self.ensemble.first();
        lane.a().divergence().or_else(|| lane.b().and_then(Session::divergence))
    }

    /// Starts over on `ensemble`: a run (one lane) or the seeds view of a record (several);
    /// its first history point.
    fn replace(&mut self, ensemble: Ensemble) {
        self.end_script();
        self.replay = None;
        self.snapshotters = new_snapshotters();
        self.mode = if ensemble.lanes().len() > 1 {
            Mode::Seeds(Box::new(SeedsMode { state: SeedsState::new(&ensemble), parked: None, latest: None }))
        } else {
            Mode::Run
        };
        self.ensemble = ensemble;
        self.push(TrainerEvent::NewRun(Box::new(self.session().config().clone())));
        self.report();
        self.paced_from = (self.clock.now(), self.ensemble.step_count());
        self.report_stride = DEFAULT_REPORT_EVERY;
    }

    /// Applies a live command to the branches `target` names (in every seed, in the seeds
    /// view).
    fn apply_to(&mut self, target: Target, command: &SessionCommand) {
        self.end_replay_for_a_change();
        if command.resets_network() {
            self.end_script();
        } else {
            self.note_user_change();
        }
        match self.ensemble.apply(target, command) {
            Ok(applied) => self.take_applied(applied),
            Err(error) => self.refuse(error.to_string()),
        }
    }

    /// Tells the UI what a change did: the run's annotations, a new run, a refusal by a seed.
    fn take_applied(&mut self, applied: Applied) {
        let Applied { annotations, refusals, is_new_run } = applied;
        if let Some(first) = refusals.into_iter().next() {
            self.refuse(first);
        }
        if matches!(self.mode, Mode::Seeds(_)) {
            if is_new_run && let Mode::Seeds(seeds) = &mut self.mode {
                seeds.state = SeedsState::new(&self.ensemble);
                seeds.latest = None;
                self.paced_from = (self.clock.now(), 0);
            }
            return;
        }
        if is_new_run {
            self.snapshotters = new_snapshotters();
            self.push(TrainerEvent::NewRun(Box::new(self.session().config().clone())));
            self.paced_from = (self.clock.now(), 0);
            self.report_stride = DEFAULT_REPORT_EVERY;
        }
        let mut b_annotations = Vec::new();
        for annotation in annotations.into_iter().filter(|annotation| annotation.lane == 0) {
            match annotation.branch {
                Branch::A => self.push(TrainerEvent::Annotation(annotation.annotation)),
                Branch::B => b_annotations.push(annotation.annotation),
            }
        }
        if is_new_run {
            self.report_branch(Branch::A);
            if self.ensemble.is_forked() {
                self.announce_fork();
            }
        }
        self.push_annotations(Branch::B, b_annotations);
    }

    /// Forks the run (every seed, in the seeds view) now; B takes `changes`.
    fn fork_now(&mut self, changes: &[SessionCommand]) {
        self.end_replay_for_a_change();
        self.note_user_change();
        match self.ensemble.fork_now(changes) {
            Ok(annotations) => {
                if matches!(self.mode, Mode::Run) {
                    self.snapshotters.1 = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
                    self.announce_fork();
                    let first: Vec<Annotation> =
                        annotations.into_iter().filter(|a| a.lane == 0).map(|a| a.annotation).collect();
                    self.push_annotations(Branch::B, first);
                }
                self.is_snapshot_due = true;
            }
            Err(error) => self.refuse(error.to_string()),
        }
    }

    /// Tells the UI where B forked (a restarted B gets its first history point too).
    fn announce_fork(&mut self) {
        let Some(fork) = self.ensemble.fork_info() else { return };
        self.push(TrainerEvent::Forked { step: fork.step, b_restarted: fork.b_restarted });
        if fork.b_restarted {
            self.report_branch(Branch::B);
        }
    }

    /// Starts the run over at step 0 on its current settings and forks it there.
    fn compare_from_start(&mut self, changes: &[SessionCommand]) {
        self.end_replay_for_a_change();
        self.end_script();
        match self.ensemble.compare_from_start(changes) {
            Ok(annotations) => {
                let applied = Applied {
                    annotations: annotations.into_iter().filter(|a| a.lane == 0).collect(),
                    refusals: Vec::new(),
                    is_new_run: true,
                };
                self.take_applied(applied);
            }
            Err(error) => self.refuse(error.to_string()),
        }
    }

    /// Ends the comparison, going on with `branch` (in every seed, in the seeds view).
    fn keep(&mut self, branch: Branch) {
        self.end_replay_for_a_change();
        self.note_user_change();
        if let Err(error) = self.ensemble.keep(branch) {
            self.refuse(error.to_string());
            return;
        }
        if matches!(self.mode, Mode::Run) {
            if branch == Branch::B {
                std::mem::swap(&mut self.snapshotters.0, &mut self.snapshotters.1);
            }
            self.push(TrainerEvent::ComparisonEnded { kept: branch });
        }
        self.paced_from = (self.clock.now(), self.ensemble.step_count());
        self.is_snapshot_due = true;
    }

    /// Opens the seeds view on the run's settings from step 0, forked where the run is. Opened
    /// from a paused run (a lesson's beat), the seeds train to the run's step and pause there, so
    /// the view's figures are taken where the run's are; opened from a running one, they run on.
    fn open_seeds(&mut self, count: usize) {
        if matches!(self.mode, Mode::Seeds(_)) {
            self.refuse("the seeds view is open already".to_owned());
            return;
        }
        self.end_replay_for_a_change();
        self.end_script();
        let lane = self.ensemble.first();
        let config = lane.a().config().clone();
        let plan = lane.b().zip(self.ensemble.fork_info()).map(|(b, fork)| {
            let at = if fork.b_restarted { 0 } else { fork.step };
            (at, commands_between(&config, b.config()))
        });
        let last = FIRST_SEED + count.clamp(1, MAX_SEEDS) as u64 - 1;
        let built = Ensemble::seeds(&config, FIRST_SEED..=last).and_then(|mut seeds| {
            if let Some((at, changes)) = plan {
                seeds.fork_at(at, changes)?;
            }
            Ok(seeds)
        });
        match built {
            Ok(seeds) => {
                let snapshot = self.run_snapshot();
                let paused_at = (!self.is_running).then(|| self.ensemble.shown_step()).filter(|&step| step > 0);
                let state = SeedsState::new(&seeds);
                let parked = std::mem::replace(&mut self.ensemble, seeds);
                self.mode = Mode::Seeds(Box::new(SeedsMode { state, parked: Some((parked, snapshot)), latest: None }));
                self.paced_from = (self.clock.now(), 0);
                self.is_snapshot_due = true;
                if let Some(step) = paused_at {
                    self.steps_left = Some(step);
                    self.set_running(true);
                }
            }
            Err(error) => self.refuse(format!("cannot open the seeds view: {error}")),
        }
    }

    /// Makes seed lane `index` the run (and its B the comparison's).
    fn open_seed(&mut self, index: usize) {
        if !matches!(self.mode, Mode::Seeds(_)) {
            self.refuse("the seeds view is not open".to_owned());
            return;
        }
        let Some(run) = self.ensemble.clone().into_lane(index) else {
            self.refuse(format!("there is no seed number {}", index + 1));
            return;
        };
        self.replace(run);
        if self.ensemble.is_forked() {
            self.announce_fork();
            if !self.ensemble.fork_info().is_some_and(|fork| fork.b_restarted) {
                self.report_branch(Branch::B);
            }
        }
    }

    /// Closes the seeds view: the run goes on where it waited (the first seed, for seeds that
    /// came from a record).
    fn close_seeds(&mut self) {
        let Mode::Seeds(seeds) = std::mem::replace(&mut self.mode, Mode::Run) else { return };
        self.replay = None;
        // Steps still to make were the seeds' (to the step they opened at), not the run's.
        if self.steps_left.take().is_some() {
            self.set_running(false);
        }
        if let Some((parked, _)) = seeds.parked {
            self.ensemble = parked;
            self.paced_from = (self.clock.now(), self.ensemble.step_count());
        } else {
            self.mode = Mode::Seeds(seeds);
            self.open_seed(0);
        }
        self.is_snapshot_due = true;
    }

    /// Whether a resume can do anything: train, or go on to a lesson's next beat.
    fn can_train(&self) -> bool {
        !self.ensemble.is_finished() || self.steps_until_beat().is_some()
    }

    fn refuse(&mut self, message: String) {
        self.push(TrainerEvent::CommandRefused(message));
    }

    /// Pauses or resumes. Resuming counts the speed from now, so a pause is never made up
    /// for by a burst of steps.
    fn set_running(&mut self, is_running: bool) {
        if self.is_running != is_running {
            self.is_running = is_running;
            if is_running {
                self.paced_from = (self.clock.now(), self.ensemble.step_count());
            }
            self.push(TrainerEvent::Running(is_running));
        }
    }

    fn adapt_report_stride(&mut self) {
        let now = self.clock.now();
        let gap = now.saturating_duration_since(self.last_report);
        self.last_report = now;
        self.budgets.reports.settle();
        let least_gap = self.budgets.reports.gap(MIN_REPORT_GAP);
        if gap < least_gap && self.report_stride < MAX_REPORT_STRIDE {
            self.report_stride *= 2;
        } else if gap > 10 * least_gap && self.report_stride > DEFAULT_REPORT_EVERY {
            self.report_stride /= 2;
        }
    }

    /// Evaluates and emits a history point of each branch of the run (none in the seeds view).
    fn report(&mut self) {
        self.report_branch(Branch::A);
        self.report_branch(Branch::B);
    }

    /// A history point of `branch` of the run, if it exists.
    fn report_branch(&mut self, branch: Branch) {
        if !matches!(self.mode, Mode::Run) {
            return;
        }
        let snapshotter = match branch {
            Branch::A => &mut self.snapshotters.0,
            Branch::B => &mut self.snapshotters.1,
        };
        let Some(session) = self.ensemble.first_mut().session_mut(branch) else { return };
        let started = self.clock.now();
        let evaluation = snapshotter.evaluate(session);
        self.budgets.reports.add(self.clock.now().saturating_duration_since(started));
        snapshotter.track(session);
        let point = HistoryPoint::from_evaluation(&evaluation);
        self.push(match branch {
            Branch::A => TrainerEvent::History(point),
            Branch::B => TrainerEvent::BranchHistory(point),
        });
    }

    /// A picture of the run's A now (its snapshotter's grid).
    fn run_snapshot(&mut self) -> Arc<Snapshot> {
        let session = self.ensemble.first_mut().session_mut(Branch::A).expect("every lane has its A");
        self.snapshotters.0.set_shown(self.budgets.shown.clone());
        let evaluation = self.snapshotters.0.evaluate(session);
        Arc::new(self.snapshotters.0.snapshot(session, &evaluation))
    }

    fn publish_if_due(&mut self) {
        let now = self.clock.now();
        // While training, a snapshot keeps to its share of the time (for a small network that
        // is every SNAPSHOT_INTERVAL); paused, it comes as soon as the interval allows.
        let interval = if self.is_running { self.budgets.snapshots.gap(SNAPSHOT_INTERVAL) } else { SNAPSHOT_INTERVAL };
        let interval_passed = self.last_snapshot.is_none_or(|at| now.saturating_duration_since(at) >= interval);
        if !(interval_passed && (self.is_running || self.is_snapshot_due)) {
            return;
        }
        let view = match &mut self.mode {
            Mode::Run => {
                let view = self.run_view();
                self.budgets.snapshots.add(self.clock.now().saturating_duration_since(now));
                self.budgets.snapshots.settle();
                view
            }
            Mode::Seeds(seeds) => {
                let seeds_interval = self.budgets.snapshots.gap(SEEDS_VIEW_INTERVAL);
                let is_due = seeds
                    .latest
                    .as_ref()
                    .is_none_or(|(at, _)| now.saturating_duration_since(*at) >= seeds_interval || self.is_snapshot_due);
                if is_due {
                    seeds.latest = Some((now, Arc::new(seeds.state.view(&mut self.ensemble))));
                    self.budgets.snapshots.add(self.clock.now().saturating_duration_since(now));
                    self.budgets.snapshots.settle();
                }
                let lanes = seeds.latest.as_ref().map(|(_, view)| Arc::clone(view)).expect("made above");
                let run = match &seeds.parked {
                    Some((_, snapshot)) => Arc::clone(snapshot),
                    None => Arc::clone(&lanes.lanes[0].a),
                };
                // The step the seeds' pictures show, so that the counter and the cards agree.
                let step = lanes.step;
                View { run, mode: ModeView::Seeds(lanes), step, rewind_step: None, lesson: None }
            }
        };
        self.latest = Some(Arc::new(view));
        self.has_new_snapshot = true;
        self.last_snapshot = Some(now);
        self.is_snapshot_due = false;
    }

    /// The run's picture: A, and B while compared.
    fn run_view(&mut self) -> View {
        let run = self.run_snapshot();
        let fork = self.ensemble.fork_info();
        let b = self.ensemble.first_mut().session_mut(Branch::B).map(|b| {
            self.snapshotters.1.set_shown(self.budgets.shown.clone());
            let evaluation = self.snapshotters.1.evaluate(b);
            Arc::new(self.snapshotters.1.snapshot(b, &evaluation))
        });
        let mode = match (b, fork) {
            (Some(b), Some(fork)) => ModeView::Compare { b, fork },
            _ => ModeView::Run,
        };
        let rewind_step = self.ensemble.rewind_target_before_divergence();
        View { run, mode, step: self.ensemble.shown_step(), rewind_step, lesson: self.lesson_progress() }
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

/// The run's snapshotters for A and B.
fn new_snapshotters() -> (Snapshotter, Snapshotter) {
    (Snapshotter::new(DEFAULT_GRID_RESOLUTION), Snapshotter::new(DEFAULT_GRID_RESOLUTION))
}

/// The divergence of the run's `branch` in a round, if it diverged.
fn divergence_of(divergences: &[LaneDivergence], branch: Branch) -> Option<Divergence> {
    divergences.iter().find(|d| d.lane == 0 && d.branch == branch).map(|d| d.divergence)
}

/// A replay's verdict in words: per branch for one seed ("A: …; B: …"), summed up for several.
fn replay_verdict(verifications: &[(u64, super::Verification, Option<super::Verification>)]) -> String {
    use super::Verification;
    if let [(_, a, b)] = verifications {
        return match b {
            None => a.describe(),
            Some(b) => format!("A: {}; B: {}", a.describe(), b.describe()),
        };
    }
    let all: Vec<(u64, &str, &Verification)> = verifications
        .iter()
        .flat_map(|(seed, a, b)| std::iter::once((*seed, "A", a)).chain(b.as_ref().map(|b| (*seed, "B", b))))
        .collect();
    let mismatched: Vec<String> = all
        .iter()
        .filter(|(_, _, verification)| !matches!(verification, Verification::Matches))
        .map(|(seed, branch, verification)| format!("seed {seed} {branch}: {}", verification.describe()))
        .collect();
    if mismatched.is_empty() {
        format!("all {} networks match the record bit for bit", all.len())
    } else {
        mismatched.join("; ")
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

/// The threads a round may use: one per core (none besides this one on the web).
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
    fn a_loaded_record_trains_on_at_the_chosen_speed_right_after_its_replay() {
        let config = RunConfig::default();
        let mut session = Session::new(config.clone()).unwrap();
        for _ in 0..4000 {
            session.step();
        }
        let record = RunRecord::single(session.record(), None);
        let (mut trainer, clock) = trainer_with_clock();
        trainer.handle(WorkerCommand::SetSpeed(Speed::StepsPerSecond(200.0)));
        trainer.handle(WorkerCommand::LoadRecord(Box::new(record)));
        // A fast replay is not paced: it ends without the clock moving.
        let far = Duration::from_hours(1);
        while trainer.ensemble().step_count() < 4000 {
            trainer.tick(clock.now() + far);
        }
        trainer.tick(clock.now() + far);
        // Half a second later it has made about 100 more steps, not waited for the 20 s that
        // 4000 steps take at 200 steps per second.
        clock.advance(Duration::from_millis(500));
        trainer.tick(clock.now() + far);
        let after = trainer.ensemble().step_count();
        assert!((4099..=4101).contains(&after), "{after}");
    }

    #[test]
    fn a_slow_ui_gets_merged_history_not_a_growing_queue() {
        let (mut trainer, clock) = trainer_with_clock();
        // 20 ms a round (of up to 20 steps) keeps the reporting interval at 20 steps: 10,000
        // points nobody reads.
        while trainer.session().step_count() < 200_000 {
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
