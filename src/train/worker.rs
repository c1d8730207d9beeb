//! The trainer thread and the handle that owns it. The UI side only uses non-blocking calls;
//! the worker never waits on the UI: a slow UI misses snapshots, never history points.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::command::{Annotation, Divergence, SessionCommand, StampedCommand};
use super::config::RunConfig;
use super::export::NetworkFile;
use super::history::HistoryPoint;
use super::record::{ReplayError, RunRecord};
use super::session::{Session, StepOutcome};
use super::snapshot::{DEFAULT_GRID_RESOLUTION, Snapshot, Snapshotter};

/// How many commands may wait for the worker.
const COMMAND_CAPACITY: usize = 256;
/// How many events may wait for the UI before the worker keeps them in its own outbox.
const EVENT_CAPACITY: usize = 1024;
/// The least time between two published snapshots (about 30 per second).
const SNAPSHOT_INTERVAL: Duration = Duration::from_millis(33);
/// How long an idle (paused) worker sleeps between looks at its command queue.
const IDLE_WAIT: Duration = Duration::from_millis(20);
/// The least time between two history points while training at full speed.
const MIN_REPORT_GAP: Duration = Duration::from_millis(10);
/// The longest the reporting interval grows to, in steps.
const MAX_REPORT_STRIDE: u64 = 1 << 20;
/// The default reporting interval, in steps.
pub const DEFAULT_REPORT_EVERY: u64 = 20;

/// How fast the worker trains.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as the machine allows.
    Max,
    /// At most this many steps per second.
    StepsPerSecond(f64),
}

/// A request to the worker: a session command, or one about the worker itself.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerCommand {
    /// Change the run (recorded for replay).
    Session(SessionCommand),
    /// Stop training; the run keeps its state.
    Pause,
    /// Train again.
    Resume,
    /// Make this many steps, then pause.
    Step(u64),
    /// Set the speed.
    SetSpeed(Speed),
    /// Report a history point every this many steps.
    SetReportEvery(u64),
    /// Set the side of the grid the neuron maps are drawn on.
    SetGridResolution(usize),
    /// Start a new run from `config` (a lesson or a loaded file).
    Load(Box<RunConfig>),
    /// Replay a saved run record headless (emitting a new run and its history as it goes),
    /// then continue training from its end.
    LoadRecord(Box<RunRecord>),
    /// Start the record's run over and replay it live: each command is applied at its step
    /// while training at the current speed; the run pauses where the record ended.
    ReplayLive(Box<RunRecord>),
    /// Continue from an exported network: its config, its weights, step 0.
    LoadNetwork(Box<NetworkFile>),
    /// Publish a snapshot now, even when paused.
    RequestSnapshot,
    /// Panic inside the worker (for testing how a dead worker is reported).
    #[doc(hidden)]
    InjectPanic,
}

/// What the worker tells the UI, in order, nothing lost.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainerEvent {
    /// One reporting interval's numbers.
    History(HistoryPoint),
    /// A command took effect.
    Annotation(Annotation),
    /// A command was refused; nothing changed.
    CommandRefused(String),
    /// The run diverged and paused itself.
    Diverged(Divergence),
    /// A new run started (a reset or a load): start the plots over.
    NewRun(Box<RunConfig>),
    /// Training paused or resumed.
    Running(bool),
    /// The worker died; the message says why. A new handle can be started.
    WorkerDied(String),
}

/// The newest snapshot, replaced by each publication: latest wins.
type SnapshotSlot = Arc<Mutex<Option<Arc<Snapshot>>>>;

/// Owns the trainer thread and both channel ends.
pub struct TrainerHandle {
    /// UI → worker: commands, bounded; the UI only `try_send`s.
    commands: SyncSender<WorkerCommand>,
    /// Worker → UI: events, bounded, in order.
    events: Receiver<TrainerEvent>,
    /// Worker → UI: the newest snapshot.
    snapshot: SnapshotSlot,
    /// UI → worker: stop now.
    stop: Arc<AtomicBool>,
    /// Worker → UI: why the worker died, if it did.
    death: Arc<Mutex<Option<String>>>,
    death_reported: bool,
    thread: Option<JoinHandle<()>>,
}

/// A command could not be queued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The queue is full; try again next frame.
    #[error("the trainer is busy; try again")]
    Full,
    /// The worker is gone.
    #[error("the trainer has stopped")]
    Disconnected,
}

impl TrainerHandle {
    /// Starts a worker on `config`, running, calling `wake` after each publication.
    pub fn spawn(config: RunConfig, wake: Box<dyn Fn() + Send + Sync>) -> std::io::Result<Self> {
        let (command_sender, command_receiver) = sync_channel(COMMAND_CAPACITY);
        let (event_sender, event_receiver) = sync_channel(EVENT_CAPACITY);
        let snapshot: SnapshotSlot = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let death = Arc::new(Mutex::new(None));
        let worker = Worker {
            commands: command_receiver,
            events: event_sender,
            outbox: VecDeque::new(),
            snapshot: Arc::clone(&snapshot),
            stop: Arc::clone(&stop),
            wake,
            config,
        };
        let death_slot = Arc::clone(&death);
        let thread = std::thread::Builder::new().name("trainer".to_owned()).spawn(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(move || worker.run()));
            let message = match result {
                Ok(Ok(())) => return,
                Ok(Err(message)) => message,
                Err(panic) => panic_message(panic.as_ref()),
            };
            if let Ok(mut slot) = death_slot.lock() {
                *slot = Some(message);
            }
        })?;
        Ok(Self {
            commands: command_sender,
            events: event_receiver,
            snapshot,
            stop,
            death,
            death_reported: false,
            thread: Some(thread),
        })
    }

    /// Queues a command without waiting.
    pub fn send(&self, command: WorkerCommand) -> Result<(), SendError> {
        self.commands.try_send(command).map_err(|error| match error {
            TrySendError::Full(_) => SendError::Full,
            TrySendError::Disconnected(_) => SendError::Disconnected,
        })
    }

    /// The next event, if one is waiting. After the worker dies, yields one
    /// [`TrainerEvent::WorkerDied`] once every earlier event has been read.
    pub fn try_event(&mut self) -> Option<TrainerEvent> {
        match self.events.try_recv() {
            Ok(event) => Some(event),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                if self.death_reported {
                    return None;
                }
                self.death_reported = true;
                let message = self.death.lock().ok().and_then(|slot| slot.clone());
                Some(TrainerEvent::WorkerDied(message.unwrap_or_else(|| "the trainer thread stopped".to_owned())))
            }
        }
    }

    /// The newest snapshot, if any (never waits for the worker).
    pub fn latest_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.try_lock().ok().and_then(|slot| slot.clone())
    }

    /// Whether the worker thread is still running.
    pub fn is_alive(&self) -> bool {
        self.thread.as_ref().is_some_and(|thread| !thread.is_finished())
    }
}

impl Drop for TrainerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("the trainer crashed: {text}")
}

/// The worker's side: owns the session.
struct Worker {
    commands: Receiver<WorkerCommand>,
    events: SyncSender<TrainerEvent>,
    outbox: VecDeque<TrainerEvent>,
    snapshot: SnapshotSlot,
    stop: Arc<AtomicBool>,
    wake: Box<dyn Fn() + Send + Sync>,
    config: RunConfig,
}

/// The worker loop's state besides the session.
struct LoopState {
    is_running: bool,
    steps_left: Option<u64>,
    speed: Speed,
    report_every: u64,
    /// The interval actually used: `report_every` doubled while reports would come more
    /// often than every `MIN_REPORT_GAP` (a fast net would otherwise spend its time on
    /// diagnostics), halved back when they come rarely.
    report_stride: u64,
    last_report: Instant,
    paced_from: (Instant, u64),
    last_snapshot: Option<Instant>,
    snapshot_due: bool,
    /// A live replay's commands still to apply, in step order.
    script: VecDeque<StampedCommand>,
    /// Where a live replay pauses.
    replay_until: Option<u64>,
}

impl Worker {
    fn run(mut self) -> Result<(), String> {
        let mut session =
            Session::new(self.config.clone()).map_err(|error| format!("cannot start the run: {error}"))?;
        let mut snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
        let mut state = LoopState {
            is_running: true,
            steps_left: None,
            speed: Speed::Max,
            report_every: DEFAULT_REPORT_EVERY,
            report_stride: DEFAULT_REPORT_EVERY,
            last_report: Instant::now(),
            paced_from: (Instant::now(), 0),
            last_snapshot: None,
            snapshot_due: true,
            script: VecDeque::new(),
            replay_until: None,
        };
        self.report(&mut session, &mut snapshotter);
        while !self.stop.load(Ordering::Relaxed) {
            if !self.handle_commands(&mut session, &mut snapshotter, &mut state) {
                return Ok(());
            }
            if state.is_running && Self::is_step_due(&state, &session) {
                self.train_one(&mut session, &mut snapshotter, &mut state);
            } else if !state.is_running {
                self.publish_if_due(&mut session, &mut snapshotter, &mut state);
                self.flush();
                self.wait_for_command(&mut session, &mut snapshotter, &mut state);
                continue;
            } else {
                std::thread::sleep(Duration::from_micros(500));
            }
            self.publish_if_due(&mut session, &mut snapshotter, &mut state);
            self.flush();
        }
        Ok(())
    }

    /// Paused: sleep until a command arrives (or a short timeout, to notice `stop`).
    fn wait_for_command(&mut self, session: &mut Session, snapshotter: &mut Snapshotter, state: &mut LoopState) {
        match self.commands.recv_timeout(IDLE_WAIT) {
            Ok(command) => self.handle(command, session, snapshotter, state),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.stop.store(true, Ordering::Relaxed),
        }
    }

    /// Applies every waiting command. Returns false when the UI side is gone.
    fn handle_commands(&mut self, session: &mut Session, snapshotter: &mut Snapshotter, state: &mut LoopState) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(command) => self.handle(command, session, snapshotter, state),
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn handle(
        &mut self,
        command: WorkerCommand,
        session: &mut Session,
        snapshotter: &mut Snapshotter,
        state: &mut LoopState,
    ) {
        state.snapshot_due = true;
        match command {
            WorkerCommand::Session(command) => self.apply(command, session, snapshotter, state),
            WorkerCommand::Pause => self.set_running(state, false),
            WorkerCommand::Resume => {
                state.steps_left = None;
                if session.divergence().is_none() {
                    self.set_running(state, true);
                }
            }
            WorkerCommand::Step(count) => {
                state.steps_left = Some(count);
                self.set_running(state, true);
            }
            WorkerCommand::SetSpeed(speed) => {
                state.speed = speed;
                state.paced_from = (Instant::now(), session.step_count());
            }
            WorkerCommand::SetReportEvery(every) => {
                state.report_every = every.max(1);
                state.report_stride = state.report_every;
            }
            WorkerCommand::SetGridResolution(resolution) => snapshotter.set_resolution(resolution),
            WorkerCommand::Load(config) => match Session::new(*config) {
                Ok(new_session) => self.replace_session(new_session, session, snapshotter, state),
                Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot load that run: {error}"))),
            },
            WorkerCommand::LoadRecord(record) => self.load_record(&record, session, snapshotter, state),
            WorkerCommand::ReplayLive(record) => match Session::new(record.config.clone()) {
                Ok(start) => {
                    self.replace_session(start, session, snapshotter, state);
                    state.script = record.commands.iter().cloned().collect();
                    state.replay_until = Some(record.steps);
                    state.steps_left = None;
                    self.set_running(state, true);
                }
                Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot replay that record: {error}"))),
            },
            WorkerCommand::LoadNetwork(file) => match file.to_session() {
                Ok(new_session) => self.replace_session(new_session, session, snapshotter, state),
                Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot load that network: {error}"))),
            },
            WorkerCommand::RequestSnapshot => {}
            WorkerCommand::InjectPanic => panic!("injected panic (test)"),
        }
    }

    /// Starts over on `new_session`: a new run, its first history point.
    fn replace_session(
        &mut self,
        new_session: Session,
        session: &mut Session,
        snapshotter: &mut Snapshotter,
        state: &mut LoopState,
    ) {
        *session = new_session;
        *snapshotter = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
        self.push(TrainerEvent::NewRun(Box::new(session.config().clone())));
        self.report(session, snapshotter);
        state.paced_from = (Instant::now(), session.step_count());
        state.report_stride = state.report_every;
        state.script.clear();
        state.replay_until = None;
    }

    /// Replays `record` headless, reporting history as the live run would have, then carries
    /// on from its end. A `stop` request cuts the replay short (the handle is being dropped).
    fn load_record(
        &mut self,
        record: &RunRecord,
        session: &mut Session,
        snapshotter: &mut Snapshotter,
        state: &mut LoopState,
    ) {
        /// Steps between two flushes of the history to the UI during a replay.
        const FLUSH_EVERY: u64 = 2_000;
        let mut fresh = Snapshotter::new(DEFAULT_GRID_RESOLUTION);
        let mut start = match Session::new(record.config.clone()) {
            Ok(start) => start,
            Err(error) => {
                self.push(TrainerEvent::CommandRefused(format!("cannot load that record: {error}")));
                return;
            }
        };
        self.push(TrainerEvent::NewRun(Box::new(record.config.clone())));
        // The live run reported its first point before any command.
        self.report(&mut start, &mut fresh);
        let report_every = state.report_every;
        let replayed = record.replay(|replaying| {
            if replaying.step_count().is_multiple_of(report_every) {
                self.report(replaying, &mut fresh);
            }
            if replaying.step_count().is_multiple_of(FLUSH_EVERY) {
                self.flush();
            }
            if self.stop.load(Ordering::Relaxed) { Err("stopped") } else { Ok(()) }
        });
        match replayed {
            Ok(mut new_session) => {
                if !new_session.step_count().is_multiple_of(report_every) {
                    self.report(&mut new_session, &mut fresh);
                }
                *session = new_session;
                *snapshotter = fresh;
                state.paced_from = (Instant::now(), session.step_count());
                if let Some(divergence) = session.divergence() {
                    self.push(TrainerEvent::Diverged(divergence));
                    self.set_running(state, false);
                }
            }
            Err(ReplayError::Callback(_)) => {}
            Err(error) => self.push(TrainerEvent::CommandRefused(format!("cannot replay that record: {error}"))),
        }
    }

    fn apply(
        &mut self,
        command: SessionCommand,
        session: &mut Session,
        snapshotter: &mut Snapshotter,
        state: &mut LoopState,
    ) {
        let generation = session.network_generation();
        match session.apply(command) {
            Ok(annotation) => {
                let is_new_run = session.network_generation() != generation;
                if is_new_run {
                    self.push(TrainerEvent::NewRun(Box::new(session.config().clone())));
                    state.paced_from = (Instant::now(), 0);
                    state.report_stride = state.report_every;
                    state.script.clear();
                    state.replay_until = None;
                }
                self.push(TrainerEvent::Annotation(annotation));
                if is_new_run {
                    self.report(session, snapshotter);
                }
            }
            Err(error) => self.push(TrainerEvent::CommandRefused(error.to_string())),
        }
    }

    fn set_running(&mut self, state: &mut LoopState, is_running: bool) {
        if state.is_running != is_running {
            state.is_running = is_running;
            self.push(TrainerEvent::Running(is_running));
        }
    }

    fn is_step_due(state: &LoopState, session: &Session) -> bool {
        match state.speed {
            Speed::Max => true,
            Speed::StepsPerSecond(rate) => {
                let (since, first_step) = state.paced_from;
                let allowed = (since.elapsed().as_secs_f64() * rate).floor() as u64;
                session.step_count().saturating_sub(first_step) < allowed.max(1)
            }
        }
    }

    /// During a live replay: applies the commands due before this step; pauses at the end.
    /// Returns false when the replay has reached its end (no step is to be made).
    fn follow_script(&mut self, session: &mut Session, snapshotter: &mut Snapshotter, state: &mut LoopState) -> bool {
        while state.script.front().is_some_and(|next| next.step <= session.step_count()) {
            if let Some(stamped) = state.script.pop_front() {
                self.apply(stamped.command, session, snapshotter, state);
            }
        }
        if state.replay_until.is_some_and(|end| session.step_count() >= end) {
            state.replay_until = None;
            state.snapshot_due = true;
            self.set_running(state, false);
            return false;
        }
        true
    }

    fn train_one(&mut self, session: &mut Session, snapshotter: &mut Snapshotter, state: &mut LoopState) {
        if !self.follow_script(session, snapshotter, state) {
            return;
        }
        match session.step() {
            StepOutcome::Trained { .. } => {
                if session.step_count().is_multiple_of(state.report_stride) {
                    self.report(session, snapshotter);
                    Self::adapt_report_stride(state);
                }
                if let Some(left) = &mut state.steps_left {
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        state.steps_left = None;
                        state.snapshot_due = true;
                        self.set_running(state, false);
                    }
                }
            }
            StepOutcome::Diverged(divergence) => {
                self.report(session, snapshotter);
                self.push(TrainerEvent::Diverged(divergence));
                state.snapshot_due = true;
                self.set_running(state, false);
            }
        }
    }

    /// Keeps history points at most about one per `MIN_REPORT_GAP`: a W2 net at full speed
    /// would otherwise evaluate its diagnostics a thousand times a second.
    fn adapt_report_stride(state: &mut LoopState) {
        let gap = state.last_report.elapsed();
        state.last_report = Instant::now();
        if gap < MIN_REPORT_GAP && state.report_stride < MAX_REPORT_STRIDE {
            state.report_stride *= 2;
        } else if gap > 10 * MIN_REPORT_GAP && state.report_stride > state.report_every {
            state.report_stride /= 2;
        }
    }

    /// Evaluates and emits a history point.
    fn report(&mut self, session: &mut Session, snapshotter: &mut Snapshotter) {
        let evaluation = session.evaluate();
        snapshotter.track(session, &evaluation);
        self.push(TrainerEvent::History(HistoryPoint::from_evaluation(&evaluation)));
    }

    fn publish_if_due(&mut self, session: &mut Session, snapshotter: &mut Snapshotter, state: &mut LoopState) {
        let interval_passed = state.last_snapshot.is_none_or(|at| at.elapsed() >= SNAPSHOT_INTERVAL);
        if !(interval_passed && (state.is_running || state.snapshot_due)) {
            return;
        }
        let evaluation = session.evaluate();
        let snapshot = Arc::new(snapshotter.snapshot(session, &evaluation));
        if let Ok(mut slot) = self.snapshot.lock() {
            *slot = Some(snapshot);
        }
        state.last_snapshot = Some(Instant::now());
        state.snapshot_due = false;
        (self.wake)();
    }

    fn push(&mut self, event: TrainerEvent) {
        self.outbox.push_back(event);
    }

    /// Sends what the channel takes; the rest waits in the outbox for the next round.
    fn flush(&mut self) {
        let had_events = !self.outbox.is_empty();
        while let Some(event) = self.outbox.pop_front() {
            match self.events.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Full(event)) => {
                    self.outbox.push_front(event);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.outbox.clear();
                    break;
                }
            }
        }
        if had_events {
            (self.wake)();
        }
    }
}
