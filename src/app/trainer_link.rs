//! The app's link to the trainer: the handle, the run's history and the newest snapshot, and
//! what each trainer event means for them. Never blocks: commands are `try_send`, events are
//! read for at most a time budget a frame.

use std::sync::Arc;
use std::time::Duration;

use web_time::Instant;

use super::top_bar::RunStatus;
use crate::train::autopsy::{AutopsyError, NeuronAutopsy, NeuronRef};
use crate::train::remote::PortFactory;
use crate::train::worker::{IN_FRAME_BUDGET, Pump, SendError, TrainerBackend};
use crate::train::{
    Annotation, Branch, History, RunConfig, RunRecord, SessionCommand, Snapshot, Speed, TrainerEvent, TrainerHandle,
    View, WorkerCommand,
};

/// The most time one frame spends reading trainer events.
const EVENT_BUDGET: Duration = Duration::from_millis(10);

/// What an event means for the rest of the app.
#[derive(Debug)]
pub(super) enum News {
    /// A message for the user.
    Notice(String),
    /// A command was refused: say so and show the settings as they are.
    Refused(String),
    /// The run record asked for.
    Record(Box<RunRecord>),
    /// A new run started: clear the selection.
    NewRun,
    /// The lesson's script reached beat `index`.
    Beat(usize),
    /// The lesson's script ended or stopped.
    ScriptEnded,
    /// The autopsy asked for.
    Autopsy(NeuronRef, Result<Box<NeuronAutopsy>, AutopsyError>),
    /// The network asked for (to export it).
    Network(Box<crate::train::export::NetworkFile>),
}

/// What the app remembers of a divergence while it lasts: where "go back" lands and the
/// settings it diverged under (a change made afterwards does not change either: going back
/// drops it), and whether the run was changed since.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct DivergedRun {
    /// The newest checkpoint before the divergence, once a view has said.
    pub(super) rewind_step: Option<u64>,
    /// The settings of the run when it diverged, once a view has said.
    pub(super) config: Option<RunConfig>,
    /// A change was applied after the divergence: the weights are still the ones that
    /// overflowed, so the run is not healthy, but Play may try them.
    pub(super) is_changed_since: bool,
}

/// The trainer, the history it reported and its newest snapshot.
pub(super) struct TrainerLink {
    /// The trainer, unless it died (or could not start).
    trainer: Option<TrainerHandle>,
    /// For the trainer's wake-up closure.
    ctx: egui::Context,
    /// The config the current run started from (to restart a dead trainer on).
    run_config: RunConfig,
    /// The run's history, fed from the trainer's events (branch A's while comparing).
    history: History,
    /// Branch B's history while comparing: A's up to the fork, then B's own.
    history_b: Option<History>,
    /// The newest view the trainer published.
    view: Option<Arc<View>>,
    /// What the trainer is doing.
    status: RunStatus,
    /// While the status is diverged: what "go back" needs.
    diverged: DivergedRun,
    /// An undo was sent: the next annotation of the run says what it undid.
    is_undo_sent: bool,
    /// The training speed.
    speed: Speed,
    /// Where the trainer runs (on its thread, in the frames: [`TrainerLink::pump`], or in a
    /// Web Worker).
    backend: TrainerBackend,
    /// Starts a Web Worker for [`TrainerBackend::Worker`] (where there is none, the trainer
    /// runs in the frames).
    port: Option<PortFactory>,
}

impl TrainerLink {
    /// A link to a new trainer on `config` at `speed`; a trainer that cannot start is reported
    /// in the status.
    pub(super) fn start(
        ctx: &egui::Context,
        config: RunConfig,
        speed: Speed,
        backend: TrainerBackend,
        port: Option<PortFactory>,
    ) -> Self {
        let mut link = Self {
            trainer: None,
            ctx: ctx.clone(),
            run_config: config.clone(),
            history: History::default(),
            history_b: None,
            view: None,
            status: RunStatus::Starting,
            diverged: DivergedRun::default(),
            is_undo_sent: false,
            speed,
            backend,
            port,
        };
        link.restart(config);
        link
    }

    /// Starts a fresh trainer on `config`, replacing any old one.
    pub(super) fn restart(&mut self, config: RunConfig) {
        self.trainer = None;
        self.history.clear();
        self.history_b = None;
        self.view = None;
        self.run_config = config.clone();
        let ctx = self.ctx.clone();
        let wake: Box<dyn Fn() + Send + Sync> = Box::new(move || ctx.request_repaint());
        let started = match (&self.port, self.backend) {
            // A worker that cannot start leaves the trainer in the frames.
            (Some(port), TrainerBackend::Worker) => match port() {
                Ok(port) => Ok(TrainerHandle::remote(config, port, wake)),
                Err(_) => TrainerHandle::start(TrainerBackend::InFrame, config, wake),
            },
            _ => TrainerHandle::start(self.backend, config, wake),
        };
        match started {
            Ok(trainer) => {
                if self.speed != Speed::Max {
                    // A fresh queue always has room.
                    let _ = trainer.send(WorkerCommand::SetSpeed(self.speed));
                }
                self.trainer = Some(trainer);
                self.status = RunStatus::Starting;
            }
            Err(error) => self.status = RunStatus::WorkerDied(format!("the trainer thread could not start: {error}")),
        }
    }

    /// Restarts a dead trainer on the config its run started from.
    pub(super) fn restart_same(&mut self) {
        self.restart(self.run_config.clone());
    }

    /// Whether a trainer is running.
    pub(super) fn has_trainer(&self) -> bool {
        self.trainer.is_some()
    }

    /// Where the trainer runs (a worker that failed to start leaves it in the frames).
    pub(super) fn trainer_backend(&self) -> Option<TrainerBackend> {
        self.trainer.as_ref().map(TrainerHandle::backend)
    }

    /// Where the trainer runs, in words (`None` while it is stopped): the page and the top
    /// bar say it, so a browser that could not start a Web Worker is seen to train in the frames.
    pub(super) fn trainer_place(&self) -> Option<&'static str> {
        let running = self.trainer.as_ref()?.backend();
        Some(match (self.backend, running) {
            (_, TrainerBackend::Worker) => "in a Web Worker, on a core of its own",
            (TrainerBackend::Worker, TrainerBackend::InFrame) => "in this page's frames: a Web Worker could not start",
            (_, TrainerBackend::InFrame) => "in the app's frames",
            (_, TrainerBackend::Thread) => "on a thread of its own",
            (_, TrainerBackend::Virtual) => "on a virtual clock",
        })
    }

    /// Queues `command`; `Err` says in words why it was not sent.
    pub(super) fn send(&mut self, command: WorkerCommand) -> Result<(), String> {
        if let WorkerCommand::SetSpeed(speed) = command {
            self.speed = speed;
        }
        let is_undo = matches!(
            &command,
            WorkerCommand::Session(SessionCommand::Undo)
                | WorkerCommand::OnBranch { command: SessionCommand::Undo, .. }
        );
        let Some(trainer) = &self.trainer else { return Err("The trainer has stopped: restart it first.".to_owned()) };
        trainer.send(command).map_err(|error| match error {
            SendError::Full => "The trainer is busy; that change was not sent. Try again.".to_owned(),
            SendError::Disconnected => format!("Not sent: {error}."),
        })?;
        self.is_undo_sent |= is_undo;
        Ok(())
    }

    /// Runs an in-frame trainer for its share of this frame, and asks for the frame it wants
    /// next (at once while it trains at full speed, when its next step is due when paced,
    /// none when paused). Does nothing for a trainer on its own thread, which wakes the UI
    /// itself.
    pub(super) fn pump(&mut self) {
        let Some(trainer) = &mut self.trainer else { return };
        match trainer.pump(IN_FRAME_BUDGET) {
            Pump::Again => self.ctx.request_repaint(),
            Pump::After(delay) => self.ctx.request_repaint_after(delay),
            Pump::Idle => {}
        }
    }

    /// For a trainer on a virtual clock (rendering a video): runs it until it has nothing
    /// left to do at this moment of its clock, and reads every event it sends, with no time
    /// box, so that what a rendered frame shows never depends on the machine's speed. Returns
    /// what the events mean for the app.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn settle(&mut self) -> Vec<News> {
        /// Rounds at most: each one reads a channelful of events or ends (a trainer on the
        /// system clock could otherwise keep one busy for ever).
        const MAX_ROUNDS: usize = 100_000;
        let mut news = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let Some(trainer) = &mut self.trainer else { break };
            let pump = trainer.pump(IN_FRAME_BUDGET);
            let mut events = Vec::new();
            while let Some(event) = trainer.try_event() {
                events.push(event);
            }
            if let Some(view) = trainer.latest_view() {
                self.view = Some(view);
            }
            // Events that did not fit the channel wait in the trainer for the next round.
            let is_done = events.is_empty() && pump != Pump::Again;
            news.extend(events.into_iter().filter_map(|event| self.handle_event(event)));
            if is_done {
                break;
            }
        }
        self.remember_divergence();
        if self.status == RunStatus::Starting && self.view.is_some() {
            self.status = RunStatus::Running;
        }
        news
    }

    /// For a rendered take, which trains in steps between frames: shows the run as running at
    /// `speed` (the take's rate), unless it diverged or its trainer died.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn show_as_running(&mut self, speed: Speed) {
        self.speed = speed;
        if matches!(self.status, RunStatus::Paused | RunStatus::Starting) {
            self.status = RunStatus::Running;
        }
    }

    /// Moves a virtual clock forward by `by` (see [`TrainerLink::settle`]); false if the
    /// trainer is not on one.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn advance_clock(&self, by: Duration) -> bool {
        self.trainer.as_ref().is_some_and(|trainer| trainer.advance_clock(by))
    }

    /// Takes the waiting events (for at most [`EVENT_BUDGET`]) and the newest snapshot.
    /// Returns what the events mean for the app, and whether more events wait.
    pub(super) fn drain(&mut self) -> (Vec<News>, bool) {
        let started = Instant::now();
        let mut events = Vec::new();
        let mut is_more_waiting = false;
        if let Some(trainer) = &mut self.trainer {
            while let Some(event) = trainer.try_event() {
                events.push(event);
                if started.elapsed() >= EVENT_BUDGET {
                    is_more_waiting = true;
                    break;
                }
            }
            if let Some(view) = trainer.latest_view()
                && self.view.as_ref().is_none_or(|old| !Arc::ptr_eq(old, &view))
            {
                self.view = Some(view);
            }
        }
        self.remember_divergence();
        let news = events.into_iter().filter_map(|event| self.handle_event(event)).collect();
        if self.status == RunStatus::Starting && self.view.is_some() {
            self.status = RunStatus::Running;
        }
        (news, is_more_waiting)
    }

    /// The notice for an annotation, if it is the undo this app sent. Annotations of changes
    /// sent before the undo may still be on their way: they leave the undo waiting.
    fn undo_told(&mut self, annotation: &str) -> Option<String> {
        let notice = undo_notice(annotation).filter(|_| self.is_undo_sent)?;
        self.is_undo_sent = false;
        Some(notice)
    }

    /// Updates the history and status for `event`.
    fn handle_event(&mut self, event: TrainerEvent) -> Option<News> {
        match event {
            TrainerEvent::History(point) => self.history.push(point),
            TrainerEvent::Annotation(annotation) => {
                // A change after a divergence is applied to the weights that overflowed: the
                // run stays diverged until it trains again (or goes back, or starts over).
                if matches!(self.status, RunStatus::Diverged { .. }) {
                    self.diverged.is_changed_since = true;
                }
                let undone = self.undo_told(&annotation.text);
                self.history.annotate(annotation);
                if let Some(notice) = undone {
                    return Some(News::Notice(notice));
                }
            }
            TrainerEvent::CommandRefused(message) => {
                self.is_undo_sent = false;
                return Some(News::Refused(message));
            }
            TrainerEvent::Notice(message) => return Some(News::Notice(message)),
            TrainerEvent::Rewound { step, b_step, from_divergence } => {
                self.history.truncate_after(step);
                if let (Some(history), Some(b_step)) = (&mut self.history_b, b_step) {
                    history.truncate_after(b_step);
                }
                let text = match from_divergence {
                    Some(diverged) => format!("went back to step {step} (the run had diverged at step {diverged})"),
                    None => format!("went back to step {step}"),
                };
                self.history.annotate(Annotation { step, text });
                self.leave_divergence();
            }
            TrainerEvent::Record(record) => return Some(News::Record(record)),
            TrainerEvent::Beat { index, .. } => return Some(News::Beat(index)),
            TrainerEvent::ScriptEnded => return Some(News::ScriptEnded),
            TrainerEvent::Autopsy { neuron, result } => return Some(News::Autopsy(neuron, result)),
            TrainerEvent::Network(network) => return Some(News::Network(network)),
            TrainerEvent::Diverged(divergence) => {
                self.history.divergences.push(divergence);
                let reason = divergence.cause.describe().to_owned();
                self.status = RunStatus::Diverged { step: divergence.step, reason };
                self.diverged = DivergedRun::default();
            }
            TrainerEvent::NewRun(config) => {
                self.history.clear();
                self.history_b = None;
                self.run_config = *config;
                self.leave_divergence();
                return Some(News::NewRun);
            }
            TrainerEvent::Running(is_running) => {
                if is_running {
                    self.status = RunStatus::Running;
                    self.diverged = DivergedRun::default();
                } else if !matches!(self.status, RunStatus::Diverged { .. }) {
                    self.status = RunStatus::Paused;
                }
            }
            TrainerEvent::WorkerDied(message) => {
                self.status = RunStatus::WorkerDied(message);
                self.trainer = None;
            }
            TrainerEvent::BranchHistory(point) => {
                if let Some(history) = &mut self.history_b {
                    history.push(point);
                }
            }
            TrainerEvent::BranchAnnotation(annotation) => {
                let undone = self.undo_told(&annotation.text);
                if let Some(history) = &mut self.history_b {
                    history.annotate(annotation);
                }
                if let Some(notice) = undone {
                    return Some(News::Notice(format!("B: {notice}")));
                }
            }
            TrainerEvent::Forked { step, b_restarted } => {
                let mut history = if b_restarted { History::default() } else { self.history.clone() };
                history.truncate_after(step);
                self.history_b = Some(history);
            }
            TrainerEvent::ComparisonEnded { kept } => {
                let b_history = self.history_b.take();
                if kept == Branch::B
                    && let Some(history) = b_history
                {
                    self.history = history;
                }
                return Some(News::Notice(format!(
                    "Kept branch {}: it goes on as the run, with its history.",
                    kept.letter()
                )));
            }
        }
        None
    }

    fn leave_divergence(&mut self) {
        if matches!(self.status, RunStatus::Diverged { .. }) {
            self.status = RunStatus::Paused;
        }
        self.diverged = DivergedRun::default();
    }

    /// While diverged, keeps what the newest view of the diverged run says: where to go back
    /// to and the settings it diverged under. A view published after a change (which no
    /// longer carries the divergence) leaves both as they were.
    fn remember_divergence(&mut self) {
        if !matches!(self.status, RunStatus::Diverged { .. }) {
            return;
        }
        let Some(view) = &self.view else { return };
        if view.run.divergence.is_some() && view.rewind_step.is_some() {
            self.diverged.rewind_step = view.rewind_step;
            self.diverged.config = Some(view.run.config.clone());
        }
    }

    /// While diverged: where "go back" lands, the settings it diverged under, and whether the
    /// run was changed since.
    pub(super) fn diverged(&self) -> Option<&DivergedRun> {
        matches!(self.status, RunStatus::Diverged { .. }).then_some(&self.diverged)
    }

    /// What the trainer is doing.
    pub(super) fn status(&self) -> &RunStatus {
        &self.status
    }

    /// The run's newest snapshot (branch A's while compared; in the seeds view, the run's
    /// that waits).
    pub(super) fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.view.as_ref().map(|view| &view.run)
    }

    /// The newest view: the run and what its mode shows besides.
    pub(super) fn view(&self) -> Option<&Arc<View>> {
        self.view.as_ref()
    }

    /// The run's history.
    pub(super) fn history(&self) -> &History {
        &self.history
    }

    /// Branch B's history, while comparing.
    pub(super) fn history_b(&self) -> Option<&History> {
        self.history_b.as_ref()
    }

    /// The training speed.
    pub(super) fn speed(&self) -> Speed {
        self.speed
    }

    /// The config the current run started from.
    pub(super) fn run_config(&self) -> &RunConfig {
        &self.run_config
    }
}

/// The notice for an undo's annotation ("undo: learning rate 0.3 → 3"): what was undone, and
/// that another undo goes further back.
fn undo_notice(text: &str) -> Option<String> {
    let undone = text.strip_prefix("undo: ")?;
    Some(format!("Undone: {undone}. Ctrl+Z again undoes the change before it."))
}
