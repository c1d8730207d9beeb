//! The trainer behind one handle, on either of two backends that run the same code:
//!
//! - **Thread** (the desktop's default): a named thread calls [`Worker::tick`] in a loop and
//!   waits on its command queue between ticks, so a paused trainer costs nothing.
//! - **In frame** (the browser's fallback, which has no threads; `relu-lab --in-frame` and the
//!   tests on the desktop): the app calls [`TrainerHandle::pump`] once a frame, which runs one
//!   [`Worker::tick`] with a small time budget and says when it wants the next frame.
//! - **Worker** (the browser's default): the trainer runs in a Web Worker, another instance of
//!   the module, and talks by messages ([`super::remote`]); [`TrainerHandle::pump`] posts the
//!   commands queued and turns the messages that arrived into events and the newest snapshot.
//!   Where the worker cannot start, the handle falls back to in frame by itself.
//!
//! Either way the UI side only uses non-blocking calls ([`TrainerHandle::send`],
//! [`TrainerHandle::try_event`], [`TrainerHandle::latest_snapshot`]), and the trainer never waits
//! on the UI: a slow UI misses snapshots and gets merged history points, never a growing
//! queue. Commands go through the same bounded queue, events through the same bounded
//! channel, and snapshots through the same latest-wins slot on both backends, so the panels do
//! not know which one runs.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::clock::{Clock, Instant, ManualClock, SystemClock};
use super::config::RunConfig;
use super::remote::{FromHost, PortMessage, ToHost, TrainerPort, decode, encode};
use super::trainer::{Tick, Trainer, TrainerEvent, WorkerCommand};
use super::view::View;

/// How many commands may wait for the trainer.
const COMMAND_CAPACITY: usize = 256;
/// How many events the channel holds; the rest wait (bounded) in the trainer.
const EVENT_CAPACITY: usize = 1024;
/// While events wait for a UI that is not reading, look again this often.
const UNDELIVERED_RETRY: Duration = Duration::from_millis(20);
/// How long one frame of the in-frame backend trains: about half of a 60 Hz frame, so that
/// the UI keeps the other half (rerun's web viewer takes a similar share for its own work).
pub const IN_FRAME_BUDGET: Duration = Duration::from_millis(8);

/// The newest snapshot, replaced by each publication: latest wins.
type SnapshotSlot = Arc<Mutex<Option<Arc<View>>>>;
/// Why the trainer died, once it has.
type DeathSlot = Arc<Mutex<Option<String>>>;

/// Where the trainer runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrainerBackend {
    /// On its own thread (not available in a browser).
    #[cfg_attr(not(target_arch = "wasm32"), default)]
    Thread,
    /// Inside the app's frames, a time budget each ([`TrainerHandle::pump`]).
    #[cfg_attr(target_arch = "wasm32", default)]
    InFrame,
    /// Inside the frames, on a clock that moves only when told ([`TrainerHandle::advance_clock`]):
    /// for rendering a video frame by frame at a fixed virtual time, whatever the machine's
    /// speed. Each [`TrainerHandle::pump`] runs the trainer until it has nothing left to do at
    /// that moment, so it must be paused or given a number of steps ([`WorkerCommand::Step`]).
    Virtual,
    /// In another instance of the module, by messages ([`TrainerHandle::remote`]): a browser's
    /// Web Worker.
    Worker,
}

/// What the app should do after [`TrainerHandle::pump`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pump {
    /// There is more to do at once: ask for another frame now.
    Again,
    /// The next step is due after this long: ask for a frame then.
    After(Duration),
    /// Nothing until a command arrives (paused), or the trainer runs on its own thread.
    Idle,
}

/// Owns the trainer (on its thread, or in frame) and both ends of its queues.
pub struct TrainerHandle {
    /// UI → trainer: commands, bounded; the UI only `try_send`s. Dropped first on drop, which
    /// wakes a paused thread.
    commands: Option<SyncSender<WorkerCommand>>,
    /// Trainer → UI: events, bounded, in order.
    events: Receiver<TrainerEvent>,
    /// Trainer → UI: the newest snapshot.
    snapshot: SnapshotSlot,
    /// Trainer → UI: why the trainer died, if it did.
    death: DeathSlot,
    death_reported: bool,
    /// Where the trainer runs.
    backend: Backend,
}

/// The backend's own part of a [`TrainerHandle`].
enum Backend {
    /// The thread and what stops it.
    #[cfg(not(target_arch = "wasm32"))]
    Thread {
        /// UI → thread: stop now.
        stop: Arc<std::sync::atomic::AtomicBool>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    /// The trainer itself, stepped by [`TrainerHandle::pump`]; `None` once it has died (its
    /// event sender is dropped with it, so the UI reads the rest and then hears of the death).
    InFrame {
        /// The trainer's side of the queues, and the trainer.
        running: Option<Box<(Worker, Trainer)>>,
        /// Asks the UI for a frame after a command is queued (the command is read then).
        wake: Box<dyn Fn() + Send + Sync>,
        /// The trainer's clock, when it is virtual ([`TrainerBackend::Virtual`]).
        virtual_clock: Option<ManualClock>,
    },
    /// The trainer elsewhere, by messages.
    Remote(Box<Remote>),
}

/// The page's side of a trainer in a Web Worker: the port, the trainer's end of the handle's
/// own queues (filled from the messages), and what it takes to fall back to in frame.
struct Remote {
    port: Box<dyn TrainerPort>,
    /// The handle's queues, as a local trainer would fill them.
    worker: Worker,
    /// Events that arrived and did not fit the handle's channel yet.
    waiting: std::collections::VecDeque<TrainerEvent>,
    /// Until the host first answers: the config and the commands sent, to replay in frame if
    /// it never does.
    unanswered: Option<(RunConfig, Vec<WorkerCommand>)>,
    /// Asks the UI for a frame after a command is queued (it is posted then).
    wake: Box<dyn Fn() + Send + Sync>,
    /// The host died after it answered.
    is_closed: bool,
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

/// The two ends of the queues, before a backend takes them.
struct Queues {
    handle_commands: SyncSender<WorkerCommand>,
    handle_events: Receiver<TrainerEvent>,
    snapshot: SnapshotSlot,
    death: DeathSlot,
}

impl Queues {
    /// New queues, and the trainer's side of them (calling `wake` after each publication).
    fn new(wake: Box<dyn Fn() + Send + Sync>) -> (Self, Worker) {
        let (command_sender, command_receiver) = sync_channel(COMMAND_CAPACITY);
        let (event_sender, event_receiver) = sync_channel(EVENT_CAPACITY);
        let snapshot: SnapshotSlot = Arc::default();
        let worker = Worker { commands: command_receiver, events: event_sender, snapshot: Arc::clone(&snapshot), wake };
        let queues = Self {
            handle_commands: command_sender,
            handle_events: event_receiver,
            snapshot,
            death: Arc::new(Mutex::new(None)),
        };
        (queues, worker)
    }

    fn into_handle(self, backend: Backend) -> TrainerHandle {
        TrainerHandle {
            commands: Some(self.handle_commands),
            events: self.handle_events,
            snapshot: self.snapshot,
            death: self.death,
            death_reported: false,
            backend,
        }
    }
}

impl TrainerHandle {
    /// Starts a trainer on `config`, running, on `backend`. `wake` asks the UI for a frame:
    /// the thread calls it after each publication, the in-frame backend after each command
    /// queued. A trainer whose config is refused starts dead and says why
    /// ([`TrainerEvent::WorkerDied`]).
    pub fn start(
        backend: TrainerBackend,
        config: RunConfig,
        wake: Box<dyn Fn() + Send + Sync>,
    ) -> std::io::Result<Self> {
        match backend {
            #[cfg(not(target_arch = "wasm32"))]
            TrainerBackend::Thread => Self::spawn(config, wake),
            #[cfg(target_arch = "wasm32")]
            TrainerBackend::Thread => {
                Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "a browser tab has no threads"))
            }
            TrainerBackend::InFrame | TrainerBackend::Worker => Ok(Self::in_frame(config, wake)),
            TrainerBackend::Virtual => Ok(Self::on_virtual_clock(config, wake)),
        }
    }

    /// Starts a trainer on `config`, running, behind `port` (a Web Worker's: see
    /// [`super::remote`]). `wake` is called after each command queued; the port's owner
    /// should also ask for a frame when a message arrives. If the host fails before it first
    /// answers, the trainer starts in frame instead, on the same config and commands.
    pub fn remote(config: RunConfig, port: Box<dyn TrainerPort>, wake: Box<dyn Fn() + Send + Sync>) -> Self {
        let (queues, worker) = Queues::new(Box::new(|| {}));
        port.post(encode(&ToHost::Start(Box::new(config.clone()))));
        let remote = Remote {
            port,
            worker,
            waiting: std::collections::VecDeque::new(),
            unanswered: Some((config, Vec::new())),
            wake,
            is_closed: false,
        };
        queues.into_handle(Backend::Remote(Box::new(remote)))
    }

    /// Starts a trainer on `config`, running, stepped by [`TrainerHandle::pump`] from the
    /// app's frames. `wake` is called after each command queued.
    pub fn in_frame(config: RunConfig, wake: Box<dyn Fn() + Send + Sync>) -> Self {
        Self::in_frame_on(config, wake, None)
    }

    /// Starts a trainer on `config`, running, stepped by [`TrainerHandle::pump`] on a clock
    /// that moves only by [`TrainerHandle::advance_clock`] (see [`TrainerBackend::Virtual`]).
    pub fn on_virtual_clock(config: RunConfig, wake: Box<dyn Fn() + Send + Sync>) -> Self {
        Self::in_frame_on(config, wake, Some(ManualClock::default()))
    }

    /// An in-frame trainer on the system clock, or on `virtual_clock`.
    fn in_frame_on(config: RunConfig, wake: Box<dyn Fn() + Send + Sync>, virtual_clock: Option<ManualClock>) -> Self {
        let (queues, worker) = Queues::new(Box::new(|| {}));
        let clock: Box<dyn Clock> = match &virtual_clock {
            Some(clock) => Box::new(clock.clone()),
            None => Box::new(SystemClock),
        };
        let running = match Trainer::new(config, clock) {
            Ok(trainer) => Some(Box::new((worker, trainer))),
            Err(error) => {
                set_death(&queues.death, start_failure(&error));
                None
            }
        };
        queues.into_handle(Backend::InFrame { running, wake, virtual_clock })
    }

    /// Starts a trainer on its own thread on `config`, running, calling `wake` after each
    /// publication.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn spawn(config: RunConfig, wake: Box<dyn Fn() + Send + Sync>) -> std::io::Result<Self> {
        use std::sync::atomic::AtomicBool;

        let (queues, worker) = Queues::new(wake);
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let death = Arc::clone(&queues.death);
        let thread = std::thread::Builder::new().name("trainer".to_owned()).spawn(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(move || worker.run(config, &thread_stop)));
            let message = match result {
                Ok(Ok(())) => return,
                Ok(Err(message)) => message,
                Err(panic) => panic_message(panic.as_ref()),
            };
            set_death(&death, message);
        })?;
        Ok(queues.into_handle(Backend::Thread { stop, thread: Some(thread) }))
    }

    /// Which backend runs the trainer.
    pub fn backend(&self) -> TrainerBackend {
        match self.backend {
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Thread { .. } => TrainerBackend::Thread,
            Backend::InFrame { virtual_clock: None, .. } => TrainerBackend::InFrame,
            Backend::InFrame { virtual_clock: Some(_), .. } => TrainerBackend::Virtual,
            Backend::Remote(_) => TrainerBackend::Worker,
        }
    }

    /// Moves a virtual clock ([`TrainerBackend::Virtual`]) forward by `by`; the trainer sees
    /// it at its next [`TrainerHandle::pump`]. Returns false (and does nothing) on any other
    /// backend.
    pub fn advance_clock(&self, by: Duration) -> bool {
        if let Backend::InFrame { virtual_clock: Some(clock), .. } = &self.backend {
            clock.advance(by);
            true
        } else {
            false
        }
    }

    /// Queues a command without waiting.
    pub fn send(&self, command: WorkerCommand) -> Result<(), SendError> {
        let Some(commands) = &self.commands else { return Err(SendError::Disconnected) };
        commands.try_send(command).map_err(|error| match error {
            TrySendError::Full(_) => SendError::Full,
            TrySendError::Disconnected(_) => SendError::Disconnected,
        })?;
        match &self.backend {
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Thread { .. } => {}
            Backend::InFrame { wake, .. } => wake(),
            Backend::Remote(remote) => (remote.wake)(),
        }
        Ok(())
    }

    /// Runs the in-frame trainer for at most `budget` (commands, steps, history, snapshots)
    /// and says when it wants to run again; the app calls this once a frame, before reading
    /// events. Does nothing for a trainer on its own thread. Never blocks.
    ///
    /// A panic in the trainer is caught (where panics unwind: not in a browser, where it ends
    /// the app) and reported like a thread's: [`TrainerEvent::WorkerDied`] after the events
    /// sent before it.
    pub fn pump(&mut self, budget: Duration) -> Pump {
        let (running, virtual_clock) = match &mut self.backend {
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Thread { .. } => return Pump::Idle,
            Backend::InFrame { running, virtual_clock, .. } => (running, virtual_clock),
            Backend::Remote(remote) => {
                return match remote.exchange(&self.death) {
                    // Events that did not fit the channel go in at the next frame.
                    Ok(()) if !remote.waiting.is_empty() => Pump::Again,
                    Ok(()) => Pump::Idle,
                    Err(Fallback(config, commands)) => self.fall_back(*config, commands),
                };
            }
        };
        let Some(state) = running.as_mut() else { return Pump::Idle };
        let (worker, trainer) = &mut **state;
        // A virtual clock stands still while the trainer works, so it never reaches this
        // deadline: the trainer does all it has to do at this moment.
        let deadline = virtual_clock.as_ref().map_or_else(|| SystemClock.now(), Clock::now) + budget;
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| worker.tick(trainer, deadline)));
        let wait = match result {
            Ok(Ok(wait)) => wait,
            // The handle owns the command queue, so it cannot be closed while pumping.
            Ok(Err(Closed)) => {
                *running = None;
                return Pump::Idle;
            }
            Err(panic) => {
                set_death(&self.death, panic_message(panic.as_ref()));
                *running = None;
                return Pump::Idle;
            }
        };
        match wait {
            Wait::No => Pump::Again,
            Wait::Until(due) => Pump::After(due.saturating_duration_since(Instant::now())),
            Wait::ForCommand => Pump::Idle,
        }
    }

    /// The next event, if one is waiting. After the trainer dies, yields one
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

    /// The newest snapshot, if any (never waits for the trainer).
    pub fn latest_view(&self) -> Option<Arc<View>> {
        self.snapshot.try_lock().ok().and_then(|slot| slot.clone())
    }

    /// Whether the trainer is still running (its thread, or in frame: it has not died).
    pub fn is_alive(&self) -> bool {
        match &self.backend {
            #[cfg(not(target_arch = "wasm32"))]
            Backend::Thread { thread, .. } => thread.as_ref().is_some_and(|thread| !thread.is_finished()),
            Backend::InFrame { running, .. } => running.is_some(),
            Backend::Remote(remote) => !remote.is_closed,
        }
    }

    /// The host failed before it ever answered: the trainer starts in frame on the same config
    /// and takes the same commands, so the app goes on as if nothing happened.
    fn fall_back(&mut self, config: RunConfig, commands: Vec<WorkerCommand>) -> Pump {
        let Backend::Remote(remote) = std::mem::replace(
            &mut self.backend,
            Backend::InFrame { running: None, wake: Box::new(|| {}), virtual_clock: None },
        ) else {
            return Pump::Idle;
        };
        let Remote { worker, wake, .. } = *remote;
        let running = match Trainer::new(config, Box::new(SystemClock)) {
            Ok(mut trainer) => {
                for command in commands {
                    trainer.handle(command);
                }
                Some(Box::new((worker, trainer)))
            }
            Err(error) => {
                set_death(&self.death, start_failure(&error));
                None
            }
        };
        self.backend = Backend::InFrame { running, wake, virtual_clock: None };
        self.pump(IN_FRAME_BUDGET)
    }
}

/// The host never answered: start in frame on this config and these commands.
struct Fallback(Box<RunConfig>, Vec<WorkerCommand>);

impl Remote {
    /// Posts the commands queued, and turns the messages that arrived into the handle's events
    /// and snapshot. A host that dies after it answered is reported like a dead thread.
    fn exchange(&mut self, death: &DeathSlot) -> Result<(), Fallback> {
        if self.is_closed {
            return Ok(());
        }
        while let Ok(command) = self.worker.commands.try_recv() {
            if let Some((_, sent)) = &mut self.unanswered {
                sent.push(command.clone());
            }
            self.port.post(encode(&ToHost::Command(command)));
        }
        while let Some(message) = self.port.try_receive() {
            let message = match message {
                PortMessage::Data(bytes) => decode::<FromHost>(&bytes).map_err(|error| error.to_string()),
                PortMessage::Failed(why) => Err(why),
            };
            match message {
                Ok(FromHost::Batch { events, view }) => {
                    self.unanswered = None;
                    self.port.post(encode(&ToHost::Received));
                    self.waiting.extend(events);
                    if let Some(view) = view
                        && let Ok(mut slot) = self.worker.snapshot.lock()
                    {
                        *slot = Some(view);
                    }
                }
                Ok(FromHost::Died(why)) | Err(why) => {
                    if let Some((config, commands)) = self.unanswered.take() {
                        return Err(Fallback(Box::new(config), commands));
                    }
                    set_death(death, format!("the trainer's worker stopped: {why}"));
                    self.close();
                    return Ok(());
                }
            }
        }
        while let Some(event) = self.waiting.pop_front() {
            if let Err(TrySendError::Full(event) | TrySendError::Disconnected(event)) =
                self.worker.events.try_send(event)
            {
                self.waiting.push_front(event);
                break;
            }
        }
        Ok(())
    }

    /// Ends the line: the handle hears of the death once it has read what came before.
    fn close(&mut self) {
        let (sender, _) = sync_channel(0);
        self.worker.events = sender;
        self.is_closed = true;
    }
}

impl Drop for TrainerHandle {
    fn drop(&mut self) {
        // A paused thread blocks on the queue: closing it wakes it.
        self.commands = None;
        #[cfg(not(target_arch = "wasm32"))]
        if let Backend::Thread { stop, thread } = &mut self.backend {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(thread) = thread.take() {
                let _ = thread.join();
            }
        }
    }
}

fn set_death(slot: &Mutex<Option<String>>, message: String) {
    if let Ok(mut slot) = slot.lock() {
        *slot = Some(message);
    }
}

fn start_failure(error: &super::ConfigError) -> String {
    format!("cannot start the run: {error}")
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("the trainer crashed: {text}")
}

/// The trainer's side of the queues.
struct Worker {
    commands: Receiver<WorkerCommand>,
    events: SyncSender<TrainerEvent>,
    snapshot: SnapshotSlot,
    wake: Box<dyn Fn() + Send + Sync>,
}

/// What the trainer wants after a tick.
enum Wait {
    /// Go on at once.
    No,
    /// Until this time, or a command.
    Until(Instant),
    /// Until a command.
    ForCommand,
}

/// The UI closed the command queue: the trainer should stop.
struct Closed;

impl Worker {
    /// One round, never blocking: the waiting commands, then training until `deadline`, then
    /// publishing what the UI should see. Both backends run exactly this.
    fn tick(&self, trainer: &mut Trainer, deadline: Instant) -> Result<Wait, Closed> {
        loop {
            match self.commands.try_recv() {
                Ok(command) => trainer.handle(command),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Err(Closed),
            }
        }
        let tick = trainer.tick(deadline);
        self.publish(trainer);
        Ok(match tick {
            Tick::Busy => Wait::No,
            Tick::WaitUntil(due) => Wait::Until(due),
            Tick::Idle if trainer.has_events() => Wait::Until(SystemClock.now() + UNDELIVERED_RETRY),
            Tick::Idle => Wait::ForCommand,
        })
    }

    /// The thread's loop: ticks, and between them waits on the command queue (with a timeout
    /// when a step or a retry is due), until the queue closes or `stop` is set.
    #[cfg(not(target_arch = "wasm32"))]
    fn run(self, config: RunConfig, stop: &std::sync::atomic::AtomicBool) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        use std::sync::mpsc::RecvTimeoutError;

        /// How long one tick trains before the thread looks at its queue again.
        const TICK_BUDGET: Duration = Duration::from_millis(4);

        let mut trainer = Trainer::new(config, Box::new(SystemClock)).map_err(|error| start_failure(&error))?;
        while !stop.load(Ordering::Relaxed) {
            let Ok(wait) = self.tick(&mut trainer, SystemClock.now() + TICK_BUDGET) else { return Ok(()) };
            let received = match wait {
                Wait::No => continue,
                Wait::Until(due) => {
                    match self.commands.recv_timeout(due.saturating_duration_since(SystemClock.now())) {
                        Ok(command) => Some(command),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return Ok(()),
                    }
                }
                Wait::ForCommand => match self.commands.recv() {
                    Ok(command) => Some(command),
                    Err(_) => return Ok(()),
                },
            };
            if let Some(command) = received {
                trainer.handle(command);
            }
        }
        Ok(())
    }

    /// Sends what the channel takes, swaps in the newest snapshot, and wakes the UI if
    /// anything arrived.
    fn publish(&self, trainer: &mut Trainer) {
        let mut delivered = false;
        while let Some(event) = trainer.next_event() {
            match self.events.try_send(event) {
                Ok(()) => delivered = true,
                Err(TrySendError::Full(event)) => {
                    trainer.put_back(event);
                    break;
                }
                // The UI is gone: nobody will read the rest.
                Err(TrySendError::Disconnected(_)) => {}
            }
        }
        if let Some(snapshot) = trainer.take_new_snapshot() {
            if let Ok(mut slot) = self.snapshot.lock() {
                *slot = Some(snapshot);
            }
            delivered = true;
        }
        if delivered {
            (self.wake)();
        }
    }
}
