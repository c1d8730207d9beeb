//! The trainer thread: commands, events, snapshots, replay, shutdown and crashes.

use crate::support::{TIMEOUT, preset};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use relu_lab::nn::Activation;
use relu_lab::train::{
    History, HistoryPoint, ReplayCursor, RunConfig, RunRecord, SessionCommand, Snapshot, TrainerEvent, TrainerHandle,
    WorkerCommand,
};

fn spawn(config: RunConfig) -> (TrainerHandle, Arc<AtomicUsize>) {
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let handle = TrainerHandle::spawn(
        config,
        Box::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
        }),
    )
    .expect("thread starts");
    (handle, wakes)
}

/// Polls `handle` until `done` says so, collecting events; fails after `seconds`.
fn wait_until(
    handle: &mut TrainerHandle,
    events: &mut Vec<TrainerEvent>,
    seconds: u64,
    mut done: impl FnMut(&[TrainerEvent], Option<&Arc<Snapshot>>) -> bool,
) -> Option<Arc<Snapshot>> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        while let Some(event) = handle.try_event() {
            events.push(event);
        }
        let snapshot = handle.latest_view().map(|view| Arc::clone(&view.run));
        if done(events, snapshot.as_ref()) {
            return snapshot;
        }
        assert!(Instant::now() < deadline, "timed out; events so far: {}", events.len());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn trains_publishes_snapshots_and_wakes_the_ui() {
    let (mut handle, wakes) = spawn(preset("healthy-relu"));
    let mut events = Vec::new();
    let snapshot = wait_until(&mut handle, &mut events, 20, |_, s| s.is_some_and(|s| s.step() >= 200)).unwrap();
    assert!(wakes.load(Ordering::Relaxed) > 0);
    assert_eq!(snapshot.layers.len(), 2);
    assert_eq!(snapshot.layers[0].neurons[0].response().len(), 48 * 48);
    assert!(events.iter().any(|e| matches!(e, TrainerEvent::History(_))));
}

#[test]
fn pause_stops_training_and_step_makes_exactly_n_steps() {
    let (mut handle, _) = spawn(preset("healthy-relu"));
    let mut events = Vec::new();
    handle.send(WorkerCommand::Pause).unwrap();
    wait_until(&mut handle, &mut events, 10, |e, _| e.contains(&TrainerEvent::Running(false)));
    handle.send(WorkerCommand::RequestSnapshot).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let paused_at = wait_until(&mut handle, &mut events, 10, |_, s| s.is_some()).unwrap().step();
    std::thread::sleep(Duration::from_millis(200));
    handle.send(WorkerCommand::RequestSnapshot).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        handle.latest_view().map(|view| Arc::clone(&view.run)).unwrap().step(),
        paused_at,
        "a paused run must not step"
    );
    handle.send(WorkerCommand::Step(7)).unwrap();
    let snapshot = wait_until(&mut handle, &mut events, 10, |_, s| s.is_some_and(|s| s.step() == paused_at + 7));
    assert_eq!(snapshot.unwrap().step(), paused_at + 7);
}

#[test]
fn a_command_reaches_the_session_and_comes_back_as_an_annotation() {
    let (mut handle, _) = spawn(preset("healthy-relu"));
    let mut events = Vec::new();
    handle.send(WorkerCommand::Session(SessionCommand::SetLearningRate { learning_rate: 3.0 })).unwrap();
    handle
        .send(WorkerCommand::Session(SessionCommand::SetActivation {
            activation: Activation::LeakyRelu { slope: 0.2 },
        }))
        .unwrap();
    wait_until(&mut handle, &mut events, 10, |_, s| {
        s.is_some_and(|s| {
            s.config.training.learning_rate == 3.0 && s.activation == Activation::LeakyRelu { slope: 0.2 }
        })
    });
    let annotations: Vec<String> = events
        .iter()
        .filter_map(|e| if let TrainerEvent::Annotation(a) = e { Some(a.text.clone()) } else { None })
        .collect();
    assert!(annotations.iter().any(|t| t.contains("learning rate") && t.contains('3')), "{annotations:?}");
    assert!(annotations.iter().any(|t| t.contains("Leaky ReLU")), "{annotations:?}");
}

#[test]
fn divergence_pauses_the_run_and_reports_it() {
    let mut config = preset("leaky-rescue");
    config.training.learning_rate = 10.0;
    let (mut handle, _) = spawn(config);
    let mut events = Vec::new();
    wait_until(&mut handle, &mut events, 20, |e, _| e.iter().any(|e| matches!(e, TrainerEvent::Diverged(_))));
    wait_until(&mut handle, &mut events, 10, |e, s| {
        e.contains(&TrainerEvent::Running(false)) && s.is_some_and(|s| s.divergence.is_some())
    });
    assert!(handle.is_alive());
}

#[test]
fn a_live_run_and_its_replay_end_with_identical_weights() {
    let (mut handle, _) = spawn(preset("healthy-relu"));
    let mut events = Vec::new();
    let script = [
        SessionCommand::SetLearningRate { learning_rate: 1.5 },
        SessionCommand::SetBiasOffset { bias_offset: -1.0 },
        SessionCommand::SetActivation { activation: Activation::Prelu { initial_slope: 0.2 } },
        SessionCommand::SetBatchSize { batch_size: 25 },
        SessionCommand::SetActivation { activation: Activation::Relu },
    ];
    for command in script {
        handle.send(WorkerCommand::Session(command)).unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    handle.send(WorkerCommand::Pause).unwrap();
    wait_until(&mut handle, &mut events, 10, |e, _| e.contains(&TrainerEvent::Running(false)));
    handle.send(WorkerCommand::RequestSnapshot).unwrap();
    let mut last_step = None;
    let live = wait_until(&mut handle, &mut events, 10, |_, s| {
        // Wait for the snapshot published after the pause (two equal steps in a row).
        let step = s.map(|s| s.step());
        let settled = step.is_some() && step == last_step;
        last_step = step;
        std::thread::sleep(Duration::from_millis(60));
        settled
    })
    .unwrap();
    let record = record_of(&mut handle, &mut events);
    assert_eq!(record.lanes[0].commands.len(), 5);
    assert!(live.step() > 0);
    let (mut replayed, mut cursor) = ReplayCursor::start(&record.lanes[0]).unwrap();
    let verification = cursor.run_to_end(&mut replayed, |_| Ok::<(), ()>(())).unwrap();
    assert_eq!(verification, relu_lab::train::Verification::Matches);
    assert_eq!(replayed.step_count(), live.step());
    let mlp = replayed.network();
    for (index, layer) in live.layers.iter().enumerate() {
        for (neuron, snapshot) in layer.neurons.iter().enumerate() {
            let weights = mlp.layers[index].weights.column(neuron);
            assert!(weights.iter().zip(snapshot.incoming_weights()).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(mlp.layers[index].biases[neuron].to_bits(), snapshot.bias.to_bits());
        }
    }
    let output = mlp.layers.last().unwrap();
    assert!(output.weights.iter().zip(&live.output_weights).all(|(a, b)| a.to_bits() == b.to_bits()));
}

/// Dropping the handle stops and joins the trainer's thread, running or paused (the thread
/// checks its stop flag between ticks; a paused one wakes when its queue closes).
#[test]
fn dropping_the_handle_joins_the_thread() {
    for paused in [false, true] {
        let (handle, _) = spawn(preset("healthy-relu"));
        if paused {
            handle.send(WorkerCommand::Pause).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
        let (done, dropped) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("drops the handle".to_owned())
            .spawn(move || {
                drop(handle);
                let _ = done.send(());
            })
            .expect("a thread");
        assert!(dropped.recv_timeout(TIMEOUT).is_ok(), "the drop never returned (paused: {paused})");
    }
}

#[test]
fn a_panic_in_the_worker_is_reported_and_a_new_worker_can_start() {
    let (mut handle, _) = spawn(preset("healthy-relu"));
    let mut events = Vec::new();
    handle.send(WorkerCommand::InjectPanic).unwrap();
    wait_until(&mut handle, &mut events, 10, |e, _| e.iter().any(|e| matches!(e, TrainerEvent::WorkerDied(_))));
    let Some(TrainerEvent::WorkerDied(message)) = events.last() else { panic!("no death event") };
    assert!(message.contains("injected panic"), "{message}");
    assert!(!handle.is_alive());
    let (mut second, _) = spawn(preset("healthy-relu"));
    wait_until(&mut second, &mut Vec::new(), 10, |_, s| s.is_some_and(|s| s.step() > 0));
}

#[test]
fn history_memory_stays_bounded_over_a_million_steps() {
    let mut history = History::default();
    let layers = vec![relu_lab::train::history::LayerPoint::default(); 2];
    for step in (0..1_000_000_u64).step_by(20) {
        let loss = 1.0 / (1.0 + step as f64);
        history.push(HistoryPoint {
            step,
            span: 1,
            train_loss: loss,
            train_loss_min: loss,
            train_loss_max: loss,
            layers: layers.clone(),
            fraction_active: vec![0.5; 16],
            ..HistoryPoint::default()
        });
    }
    assert!(history.points.len() <= relu_lab::train::history::MAX_HISTORY_POINTS);
    // Nothing silently dropped: the spans add up to every point pushed, and the extremes survive.
    let total: u64 = history.points.iter().map(|p| u64::from(p.span)).sum();
    assert_eq!(total, 50_000);
    assert_eq!(history.points[0].train_loss_max, 1.0);
    assert_eq!(history.points.last().unwrap().step, 999_980);
}

/// The run record so far, asked of the worker.
fn record_of(handle: &mut TrainerHandle, events: &mut Vec<TrainerEvent>) -> RunRecord {
    handle.send(WorkerCommand::RequestRecord).expect("the queue has room");
    wait_until(handle, events, 10, |e, _| e.iter().any(|e| matches!(e, TrainerEvent::Record(_))));
    let Some(TrainerEvent::Record(record)) = events.iter().rev().find(|e| matches!(e, TrainerEvent::Record(_))) else {
        unreachable!("waited for it")
    };
    (**record).clone()
}

/// The paused worker's first snapshot that `is_loaded` accepts.
fn loaded(
    handle: &mut TrainerHandle,
    events: &mut Vec<TrainerEvent>,
    is_loaded: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    handle.send(WorkerCommand::RequestSnapshot).expect("the queue has room");
    wait_until(handle, events, 20, |_, s| s.is_some_and(|s| is_loaded(s))).expect("a snapshot")
}

/// Asserts that the snapshot's weights and biases equal `mlp`'s, bit for bit.
fn assert_same_weights(snapshot: &Snapshot, mlp: &relu_lab::nn::Mlp<f32>) {
    for (index, layer) in snapshot.layers.iter().enumerate() {
        for (neuron, live) in layer.neurons.iter().enumerate() {
            let weights = mlp.layers[index].weights.column(neuron);
            assert!(weights.iter().zip(live.incoming_weights()).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(mlp.layers[index].biases[neuron].to_bits(), live.bias.to_bits());
        }
    }
    let output = mlp.layers.last().expect("an output layer");
    assert!(output.weights.iter().zip(&snapshot.output_weights).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(output.biases[0].to_bits(), snapshot.output_bias.to_bits());
}

#[test]
fn a_loaded_network_continues_from_identical_weights() {
    use relu_lab::train::export::NetworkFile;
    let mut session = relu_lab::train::Session::new(preset("prelu")).unwrap();
    for _ in 0..250 {
        session.step();
    }
    let file = NetworkFile::from_json(&session.network_file().to_json()).unwrap();
    let (mut handle, _) = spawn(preset("healthy-relu"));
    let mut events = Vec::new();
    handle.send(WorkerCommand::Pause).unwrap();
    handle.send(WorkerCommand::LoadNetwork(Box::new(file.clone()))).unwrap();
    wait_until(&mut handle, &mut events, 10, |e, _| e.iter().any(|e| matches!(e, TrainerEvent::NewRun(_))));
    let snapshot =
        loaded(&mut handle, &mut events, |s| s.step() == 0 && s.config.description == file.config.description);
    assert_same_weights(&snapshot, session.network());
    // It trains on from there.
    handle.send(WorkerCommand::Step(5)).unwrap();
    wait_until(&mut handle, &mut events, 10, |_, s| s.is_some_and(|s| s.step() == 5));
}

#[test]
fn a_loaded_record_is_replayed_and_continues_from_its_end() {
    let mut session = relu_lab::train::Session::new(preset("healthy-relu")).unwrap();
    for step in 0..330_u64 {
        if step == 40 {
            session.apply(SessionCommand::SetLearningRate { learning_rate: 1.2 }).unwrap();
        }
        if step == 200 {
            session.apply(SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } }).unwrap();
        }
        session.step();
    }
    let record = RunRecord::from_json(&RunRecord::single(session.record(), None).to_json()).unwrap();
    assert_eq!(record.steps(), 330);
    let (mut handle, _) = spawn(preset("negative-bias"));
    let mut events = Vec::new();
    handle.send(WorkerCommand::Pause).unwrap();
    wait_until(&mut handle, &mut events, 10, |e, _| e.contains(&TrainerEvent::Running(false)));
    events.clear();
    handle.send(WorkerCommand::LoadRecord(Box::new(record.clone()))).unwrap();
    let snapshot =
        loaded(&mut handle, &mut events, |s| s.step() == 330 && s.command_count == record.lanes[0].commands.len());
    let loaded_record = record_of(&mut handle, &mut events);
    assert_eq!(loaded_record.lanes[0].config, record.lanes[0].config);
    assert_eq!(loaded_record.lanes[0].commands, record.lanes[0].commands);
    assert_eq!(loaded_record.lanes[0].parameter_digest, record.lanes[0].parameter_digest);
    assert_eq!(snapshot.activation, Activation::LeakyRelu { slope: 0.1 });
    assert_same_weights(&snapshot, session.network());
    // A new run, then its history from step 0 to the record's end.
    wait_until(&mut handle, &mut events, 10, |e, _| {
        e.iter().any(|e| matches!(e, TrainerEvent::History(point) if point.step == 320))
    });
    let steps: Vec<u64> =
        events.iter().filter_map(|e| if let TrainerEvent::History(p) = e { Some(p.step) } else { None }).collect();
    assert!(matches!(events.first(), Some(TrainerEvent::NewRun(_))), "{:?}", events.first());
    assert_eq!(steps.first(), Some(&0));
    assert!(steps.windows(2).all(|pair| pair[0] < pair[1]), "{steps:?}");
    handle.send(WorkerCommand::Step(3)).unwrap();
    wait_until(&mut handle, &mut events, 10, |_, s| s.is_some_and(|s| s.step() == 333));
}

#[test]
fn a_record_replayed_live_applies_each_command_at_its_step_and_pauses_at_its_end() {
    let mut session = relu_lab::train::Session::new(preset("healthy-relu")).unwrap();
    for step in 0..400_u64 {
        if step == 60 {
            session.apply(SessionCommand::SetBiasOffset { bias_offset: -0.5 }).unwrap();
        }
        if step == 250 {
            session.apply(SessionCommand::SetActivation { activation: Activation::Elu { alpha: 0.5 } }).unwrap();
        }
        session.step();
    }
    let record = RunRecord::from_json(&RunRecord::single(session.record(), None).to_json()).unwrap();
    let (mut handle, _) = spawn(preset("negative-bias"));
    let mut events = Vec::new();
    handle.send(WorkerCommand::ReplayLive(Box::new(record.clone()))).unwrap();
    // It trains on its own and pauses where the record ended.
    wait_until(&mut handle, &mut events, 20, |e, _| {
        e.iter()
            .rposition(|e| matches!(e, TrainerEvent::NewRun(_)))
            .is_some_and(|start| e[start..].contains(&TrainerEvent::Running(false)))
    });
    let snapshot = loaded(&mut handle, &mut events, |s| s.step() == 400);
    assert_eq!(snapshot.activation, Activation::Elu { alpha: 0.5 });
    assert_eq!(record_of(&mut handle, &mut events).lanes[0].commands, record.lanes[0].commands);
    assert_same_weights(&snapshot, session.network());
    let annotated: Vec<u64> =
        events.iter().filter_map(|e| if let TrainerEvent::Annotation(a) = e { Some(a.step) } else { None }).collect();
    assert!(annotated.ends_with(&[60, 250]), "{annotated:?}");
}
