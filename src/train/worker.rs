//! The trainer thread and the handle that owns it. The UI side only uses non-blocking calls;
//! the thread never waits on the UI: a slow UI misses snapshots and gets merged history
//! points, never a growing queue. A paused trainer blocks on its command queue instead of
//! polling.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::clock::{Clock, Instant, SystemClock};
use super::config::RunConfig;
use super::snapshot::Snapshot;
use super::trainer::{Tick, Trainer, TrainerEvent, WorkerCommand};

/// How many commands may wait for the worker.
const COMMAND_CAPACITY: usize = 256;
/// How many events the channel holds; the rest wait (bounded) in the trainer.
const EVENT_CAPACITY: usize = 1024;
/// How long one tick trains before the thread looks at its queue again.
const TICK_BUDGET: Duration = Duration::from_millis(4);
/// While events wait for a UI that is not reading, look again this often.
const UNDELIVERED_RETRY: Duration = Duration::from_millis(20);

/// The newest snapshot, replaced by each publication: latest wins.
type SnapshotSlot = Arc<Mutex<Option<Arc<Snapshot>>>>;

/// Owns the trainer thread and both channel ends.
pub struct TrainerHandle {
    /// UI → worker: commands, bounded; the UI only `try_send`s. Dropped first on drop, which
    /// wakes a paused worker.
    commands: Option<SyncSender<WorkerCommand>>,
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
            snapshot: Arc::clone(&snapshot),
            stop: Arc::clone(&stop),
            wake,
        };
        let death_slot = Arc::clone(&death);
        let thread = std::thread::Builder::new().name("trainer".to_owned()).spawn(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(move || worker.run(config)));
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
            commands: Some(command_sender),
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
        let Some(commands) = &self.commands else { return Err(SendError::Disconnected) };
        commands.try_send(command).map_err(|error| match error {
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
        // A paused worker blocks on the queue: closing it wakes it.
        self.commands = None;
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

/// The thread's side: a trainer and the channel ends.
struct Worker {
    commands: Receiver<WorkerCommand>,
    events: SyncSender<TrainerEvent>,
    snapshot: SnapshotSlot,
    stop: Arc<AtomicBool>,
    wake: Box<dyn Fn() + Send + Sync>,
}

/// What the thread does after a tick.
enum Wait {
    /// Go on at once.
    No,
    /// Until this time, or a command.
    Until(Instant),
    /// Until a command.
    ForCommand,
}

impl Worker {
    fn run(self, config: RunConfig) -> Result<(), String> {
        let clock = SystemClock;
        let mut trainer =
            Trainer::new(config, Box::new(clock)).map_err(|error| format!("cannot start the run: {error}"))?;
        while !self.stop.load(Ordering::Relaxed) {
            loop {
                match self.commands.try_recv() {
                    Ok(command) => trainer.handle(command),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Ok(()),
                }
            }
            let tick = trainer.tick(clock.now() + TICK_BUDGET);
            self.publish(&mut trainer);
            let wait = match tick {
                Tick::Busy => Wait::No,
                Tick::WaitUntil(due) => Wait::Until(due),
                Tick::Idle if trainer.has_events() => Wait::Until(clock.now() + UNDELIVERED_RETRY),
                Tick::Idle => Wait::ForCommand,
            };
            let received = match wait {
                Wait::No => continue,
                Wait::Until(due) => match self.commands.recv_timeout(due.saturating_duration_since(clock.now())) {
                    Ok(command) => Some(command),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Ok(()),
                },
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
