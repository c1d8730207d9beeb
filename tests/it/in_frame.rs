//! The in-frame trainer backend, the one a browser tab runs (no threads there): driven natively
//! through the same handle as the thread, it makes the same numbers bit for bit, keeps to its
//! time budget, asks for frames only while it has work, and reports a crash like a thread.

use crate::support::{TIMEOUT, preset};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use relu_lab::nn::Activation;
use relu_lab::nn::OptimizerKind;
use relu_lab::train::worker::{IN_FRAME_BUDGET, Pump, TrainerBackend};
use relu_lab::train::{
    RunConfig, RunRecord, SessionCommand, Snapshot, Speed, TrainerEvent, TrainerHandle, WorkerCommand,
};

fn start(backend: TrainerBackend, config: RunConfig) -> TrainerHandle {
    TrainerHandle::start(backend, config, Box::new(|| {})).expect("the trainer starts")
}

/// Pumps (a no-op for the thread) and reads events until `done` holds; fails after [`TIMEOUT`].
fn drive_until(
    handle: &mut TrainerHandle,
    events: &mut Vec<TrainerEvent>,
    what: &str,
    mut done: impl FnMut(&[TrainerEvent], Option<&Arc<Snapshot>>) -> bool,
) -> Option<Arc<Snapshot>> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        handle.pump(IN_FRAME_BUDGET);
        while let Some(event) = handle.try_event() {
            events.push(event);
        }
        let snapshot = handle.latest_view().map(|view| Arc::clone(&view.run));
        if done(events, snapshot.as_ref()) {
            return snapshot;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        if handle.backend() == TrainerBackend::Thread {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// One part of a script: commands, then this many steps.
struct Part {
    commands: Vec<SessionCommand>,
    steps: u64,
}

/// Runs `script` from step 0 of `config` on `backend`, each part's steps counted exactly
/// (`Step(n)` while paused), and returns the run record and the last snapshot.
fn run_script(backend: TrainerBackend, config: &RunConfig, script: &[Part]) -> (RunRecord, Arc<Snapshot>) {
    let mut handle = start(backend, config.clone());
    let mut events = Vec::new();
    handle.send(WorkerCommand::Pause).expect("a fresh queue has room");
    drive_until(&mut handle, &mut events, "it pauses", |events, _| events.contains(&TrainerEvent::Running(false)));
    // However far it trained before the pause, the run starts over at step 0, paused.
    handle.send(WorkerCommand::Load(Box::new(config.clone()))).expect("a fresh queue has room");
    drive_until(&mut handle, &mut events, "the run starts over", |events, _| {
        events.iter().any(|event| matches!(event, TrainerEvent::NewRun(_)))
    });
    let mut target = 0;
    for part in script {
        for command in &part.commands {
            handle.send(WorkerCommand::Session(command.clone())).expect("a fresh queue has room");
        }
        handle.send(WorkerCommand::Step(part.steps)).expect("a fresh queue has room");
        target += part.steps;
        drive_until(&mut handle, &mut events, &format!("step {target}"), |events, snapshot| {
            let diverged = events.iter().find(|event| matches!(event, TrainerEvent::Diverged(_)));
            assert!(diverged.is_none(), "the script's run diverged: {diverged:?}");
            snapshot.is_some_and(|snapshot| snapshot.step() == target)
        });
    }
    events.clear();
    handle.send(WorkerCommand::RequestRecord).expect("a fresh queue has room");
    drive_until(&mut handle, &mut events, "the record arrives", |events, _| {
        events.iter().any(|event| matches!(event, TrainerEvent::Record(_)))
    });
    let Some(TrainerEvent::Record(record)) = events.into_iter().find(|event| matches!(event, TrainerEvent::Record(_)))
    else {
        unreachable!("found above")
    };
    let snapshot = handle.latest_view().map(|view| Arc::clone(&view.run)).expect("a snapshot");
    (*record, snapshot)
}

/// Every weight, bias and slope of a snapshot, as bits.
fn parameter_bits(snapshot: &Snapshot) -> Vec<u32> {
    let mut bits = Vec::new();
    for layer in &snapshot.layers {
        for neuron in &layer.neurons {
            bits.extend(neuron.incoming_weights().iter().map(|weight| weight.to_bits()));
            bits.push(neuron.bias.to_bits());
            bits.extend(neuron.prelu_slope.map(f32::to_bits));
        }
    }
    bits.extend(snapshot.output_weights.iter().map(|weight| weight.to_bits()));
    bits.push(snapshot.output_bias.to_bits());
    bits
}

/// A run that goes through most kinds of change: a high rate, a rescue, an offset, revivals,
/// another optimizer and batch size, an undo (and does not diverge, which would pause it).
fn script(killing_rate: f64) -> Vec<Part> {
    let set = |commands: Vec<SessionCommand>, steps| Part { commands, steps };
    vec![
        set(vec![], 300),
        set(vec![SessionCommand::SetLearningRate { learning_rate: killing_rate }], 200),
        set(
            vec![
                SessionCommand::SetLearningRate { learning_rate: 0.03 },
                SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } },
            ],
            250,
        ),
        set(vec![SessionCommand::SetBiasOffset { bias_offset: -0.5 }, SessionCommand::ReviveDead], 150),
        set(
            vec![
                SessionCommand::SetOptimizer { optimizer: OptimizerKind::ADAM },
                SessionCommand::SetBatchSize { batch_size: 25 },
            ],
            200,
        ),
        set(vec![SessionCommand::Undo], 100),
    ]
}

#[test]
fn the_in_frame_backend_makes_the_same_numbers_as_the_thread_bit_for_bit() {
    let config = preset("healthy-relu");
    let (on_thread, thread_snapshot) = run_script(TrainerBackend::Thread, &config, &script(1.0));
    let (in_frame, frame_snapshot) = run_script(TrainerBackend::InFrame, &config, &script(1.0));
    assert_eq!(in_frame.steps(), 1200);
    assert_eq!(
        in_frame.lanes[0].commands.len(),
        8,
        "every command, stamped with its step: {:?}",
        in_frame.lanes[0].commands
    );
    assert_eq!(in_frame, on_thread, "the same record: commands at the same steps, the same digest of the weights");
    assert_eq!(parameter_bits(&frame_snapshot), parameter_bits(&thread_snapshot), "every parameter, bit for bit");
    assert_eq!(frame_snapshot.evaluation, thread_snapshot.evaluation);

    // The negative control: one number different, different bits.
    let (other, other_snapshot) = run_script(TrainerBackend::InFrame, &config, &script(0.9));
    assert_ne!(other.lanes[0].parameter_digest, in_frame.lanes[0].parameter_digest);
    assert_ne!(parameter_bits(&other_snapshot), parameter_bits(&frame_snapshot));
}

#[test]
fn an_in_frame_trainer_trains_for_its_budget_then_asks_for_the_next_frame() {
    let mut handle = start(TrainerBackend::InFrame, preset("healthy-relu"));
    // Full speed: each pump trains for its budget and wants another frame at once. (How long a
    // pump takes is the trainer's `tick` deadline, tested on a clock the test moves.)
    for _ in 0..20 {
        assert_eq!(handle.pump(IN_FRAME_BUDGET), Pump::Again);
    }
    let steps = handle.latest_view().map(|view| Arc::clone(&view.run)).expect("snapshots are published").step();
    assert!(steps > 0, "20 frames trained nothing");

    // Paced: it asks for a frame when the next step is due, not at once.
    handle.send(WorkerCommand::SetSpeed(Speed::StepsPerSecond(10.0))).unwrap();
    handle.pump(IN_FRAME_BUDGET);
    let Pump::After(delay) = handle.pump(IN_FRAME_BUDGET) else { panic!("paced, it waits") };
    assert!(delay <= Duration::from_millis(100), "{delay:?}");

    // Paused (with nothing left to deliver): no frames at all.
    handle.send(WorkerCommand::Pause).unwrap();
    let mut pump = handle.pump(IN_FRAME_BUDGET);
    let deadline = Instant::now() + TIMEOUT;
    while pump != Pump::Idle {
        assert!(Instant::now() < deadline, "a paused trainer still wants frames: {pump:?}");
        while handle.try_event().is_some() {}
        std::thread::sleep(Duration::from_millis(10));
        pump = handle.pump(IN_FRAME_BUDGET);
    }
    let paused_at = handle.latest_view().map(|view| Arc::clone(&view.run)).unwrap().step();
    for _ in 0..5 {
        assert_eq!(handle.pump(IN_FRAME_BUDGET), Pump::Idle);
    }
    assert_eq!(
        handle.latest_view().map(|view| Arc::clone(&view.run)).unwrap().step(),
        paused_at,
        "a paused run does not step"
    );
}

#[test]
fn a_command_sent_in_frame_asks_for_the_frame_that_reads_it() {
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let wake = Box::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let mut handle = TrainerHandle::start(TrainerBackend::InFrame, preset("healthy-relu"), wake).unwrap();
    assert_eq!(handle.backend(), TrainerBackend::InFrame);
    handle.pump(IN_FRAME_BUDGET);
    let before = wakes.load(Ordering::Relaxed);
    handle.send(WorkerCommand::Pause).unwrap();
    assert_eq!(wakes.load(Ordering::Relaxed), before + 1, "the UI is asked for a frame");
    // Nothing happens until that frame pumps.
    assert!(std::iter::from_fn(|| handle.try_event()).all(|event| event != TrainerEvent::Running(false)));
    handle.pump(IN_FRAME_BUDGET);
    assert!(std::iter::from_fn(|| handle.try_event()).any(|event| event == TrainerEvent::Running(false)));
}

#[test]
fn a_crash_in_frame_is_reported_like_a_dead_thread() {
    let mut handle = start(TrainerBackend::InFrame, preset("healthy-relu"));
    handle.pump(IN_FRAME_BUDGET);
    assert!(handle.is_alive());
    handle.send(WorkerCommand::InjectPanic).unwrap();
    assert_eq!(handle.pump(IN_FRAME_BUDGET), Pump::Idle);
    assert!(!handle.is_alive());
    let events: Vec<TrainerEvent> = std::iter::from_fn(|| handle.try_event()).collect();
    let Some(TrainerEvent::WorkerDied(message)) = events.last() else { panic!("no death: {events:?}") };
    assert!(message.contains("injected panic"), "{message}");
    assert_eq!(handle.try_event(), None, "the death is told once");
    assert!(handle.send(WorkerCommand::Resume).is_ok() || !handle.is_alive());
}

#[test]
fn a_refused_config_starts_a_dead_trainer_that_says_why() {
    let mut config = preset("healthy-relu");
    config.network.hidden_layers = vec![0];
    let mut handle = start(TrainerBackend::InFrame, config);
    assert!(!handle.is_alive());
    assert_eq!(handle.pump(IN_FRAME_BUDGET), Pump::Idle);
    let Some(TrainerEvent::WorkerDied(message)) = handle.try_event() else { panic!("no death") };
    assert!(message.starts_with("cannot start the run"), "{message}");
    assert!(message.contains("network.hidden_layers"), "{message}");
}
