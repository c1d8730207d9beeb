//! The trainer behind messages, as a browser's Web Worker runs it (`train::remote`): driven
//! natively through a port that runs the host in this process, every command, event and view
//! crosses the same bytes as in a browser. It makes the same numbers bit for bit as the
//! trainer in frame, and where the worker cannot start, the handle trains in frame by itself.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{TIMEOUT, preset};
use relu_lab::train::remote::{PortMessage, TrainerPort};
use relu_lab::train::remote_host::TrainerHost;
use relu_lab::train::worker::{IN_FRAME_BUDGET, TrainerBackend};
use relu_lab::train::{RunConfig, SessionCommand, TrainerEvent, TrainerHandle, View, WorkerCommand};

/// A port whose host runs in this process, a turn each frame the page looks for messages; it
/// can be made to fail (as a worker whose script does not load).
struct Loopback {
    host: RefCell<TrainerHost>,
    /// Messages to hand over before the host's own (a failure, for the tests).
    injected: RefCell<VecDeque<PortMessage>>,
    /// The host ran since the page last found nothing: as a browser's inbox holds only what
    /// arrived by the frame, the page's next look finds nothing and its frame goes on.
    has_run: Cell<bool>,
}

impl Loopback {
    fn boxed(injected: Vec<PortMessage>) -> Box<dyn TrainerPort> {
        Box::new(Self {
            host: RefCell::new(TrainerHost::new()),
            injected: RefCell::new(injected.into()),
            has_run: Cell::new(false),
        })
    }
}

impl TrainerPort for Loopback {
    fn post(&self, message: Vec<u8>) {
        self.host.borrow_mut().receive(&message);
    }

    fn try_receive(&self) -> Option<PortMessage> {
        if let Some(message) = self.injected.borrow_mut().pop_front() {
            return Some(message);
        }
        if self.has_run.replace(false) {
            return None;
        }
        let mut host = self.host.borrow_mut();
        host.run(Duration::from_millis(4));
        self.has_run.set(true);
        host.take_outgoing().map(PortMessage::Data)
    }
}

/// Pumps and reads events until `done` holds; fails after [`TIMEOUT`].
fn drive_until(
    handle: &mut TrainerHandle,
    events: &mut Vec<TrainerEvent>,
    what: &str,
    mut done: impl FnMut(&[TrainerEvent], Option<&Arc<View>>) -> bool,
) -> Option<Arc<View>> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        handle.pump(IN_FRAME_BUDGET);
        while let Some(event) = handle.try_event() {
            events.push(event);
        }
        let view = handle.latest_view();
        if done(events, view.as_ref()) {
            return view;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
    }
}

/// Trains `config` for 300 steps, sets a high rate, 200 more, and returns the record's digest
/// and the final view.
fn scripted(mut handle: TrainerHandle, config: &RunConfig) -> (String, Arc<View>) {
    let mut events = Vec::new();
    handle.send(WorkerCommand::Pause).expect("a fresh queue has room");
    handle.send(WorkerCommand::Load(Box::new(config.clone()))).expect("a fresh queue has room");
    handle.send(WorkerCommand::Step(300)).expect("a fresh queue has room");
    drive_until(&mut handle, &mut events, "step 300", |_, view| view.is_some_and(|view| view.step == 300));
    handle
        .send(WorkerCommand::Session(SessionCommand::SetLearningRate { learning_rate: 1.0 }))
        .expect("a fresh queue has room");
    handle.send(WorkerCommand::Step(200)).expect("a fresh queue has room");
    let view = drive_until(&mut handle, &mut events, "step 500", |_, view| view.is_some_and(|view| view.step == 500))
        .expect("a view");
    events.clear();
    handle.send(WorkerCommand::RequestRecord).expect("a fresh queue has room");
    drive_until(&mut handle, &mut events, "the record", |events, _| {
        events.iter().any(|event| matches!(event, TrainerEvent::Record(_)))
    });
    let digest = events
        .iter()
        .find_map(|event| match event {
            TrainerEvent::Record(record) => Some(record.lanes[0].parameter_digest.clone()),
            _ => None,
        })
        .flatten()
        .expect("a digest");
    (digest, view)
}

#[test]
fn a_trainer_behind_messages_makes_the_same_bits_as_one_in_frame() {
    let config = preset("high-learning-rate");
    let remote = TrainerHandle::remote(config.clone(), Loopback::boxed(Vec::new()), Box::new(|| {}));
    assert_eq!(remote.backend(), TrainerBackend::Worker);
    let in_frame = TrainerHandle::start(TrainerBackend::InFrame, config.clone(), Box::new(|| {})).unwrap();
    let (remote_digest, remote_view) = scripted(remote, &config);
    let (local_digest, local_view) = scripted(in_frame, &config);
    assert_eq!(remote_digest, local_digest);
    assert_eq!(remote_view.run.output, local_view.run.output, "the same pictures, bit for bit");
    assert_eq!(remote_view.run.evaluation, local_view.run.evaluation);
}

#[test]
fn a_worker_that_cannot_start_leaves_the_trainer_in_the_frames() {
    let failing = Loopback::boxed(vec![PortMessage::Failed("the script did not load".to_owned())]);
    let mut handle = TrainerHandle::remote(preset("healthy-relu"), failing, Box::new(|| {}));
    // Sent before the failure is known: it is not lost.
    handle.send(WorkerCommand::SetSpeed(relu_lab::train::Speed::Max)).unwrap();
    let mut events = Vec::new();
    drive_until(&mut handle, &mut events, "it trains in frame", |_, view| view.is_some_and(|view| view.step > 100));
    assert_eq!(handle.backend(), TrainerBackend::InFrame);
    assert!(handle.is_alive());
}

#[test]
fn a_worker_that_dies_after_it_answered_is_reported_like_a_dead_thread() {
    let port = Loopback::boxed(Vec::new());
    let mut handle = TrainerHandle::remote(preset("healthy-relu"), port, Box::new(|| {}));
    let mut events = Vec::new();
    drive_until(&mut handle, &mut events, "a first view", |_, view| view.is_some());
    handle.send(WorkerCommand::InjectPanic).unwrap();
    drive_until(&mut handle, &mut events, "the death is reported", |events, _| {
        events.iter().any(|event| matches!(event, TrainerEvent::WorkerDied(_)))
    });
    let Some(TrainerEvent::WorkerDied(message)) = events.last() else { panic!("{events:?}") };
    assert!(message.contains("injected panic"), "{message}");
    assert!(!handle.is_alive());
}
