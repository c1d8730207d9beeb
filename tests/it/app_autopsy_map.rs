//! "How did it die?" and the Map, headless with egui_kittest: the panels alone on real
//! autopsies and sweeps, and in the whole app (a dead tile's button reaches the trainer and
//! its answer comes back; a map cell opens its run).

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui::vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::ReluLabApp;
use relu_lab::app::autopsy_panel::AutopsyPanel;
use relu_lab::app::map_view::MapView;
use relu_lab::app::network_view::NetworkView;
use relu_lab::app::shared::{Intent, ViewSettings};
use relu_lab::nn::NeuronState;
use relu_lab::train::autopsy::{AutopsyError, NeuronAutopsy, NeuronRef, neuron_autopsy};
use relu_lab::train::presets;
use relu_lab::train::{RunConfig, Session, Snapshotter, WorkerCommand};

use crate::support::{app_harness_with, wait_until_harness};

/// The longest a test waits for a thread.
const TIMEOUT: Duration = Duration::from_mins(1);

fn lesson_two() -> RunConfig {
    presets::find("high-learning-rate").expect("lesson 2's preset").config().expect("a valid preset")
}

/// Lesson 2 after `steps` steps, and its first neuron dead now.
fn dead_neuron_after(steps: u64) -> (Session, NeuronRef) {
    let mut session = Session::new(lesson_two()).expect("the test's own setup");
    for _ in 0..steps {
        session.step();
    }
    let census = session.census();
    let dead = (0..2)
        .flat_map(|layer| (0..8).map(move |neuron| NeuronRef { layer, neuron }))
        .find(|n| census.track(n.layer, n.neuron).is_some_and(|track| track.state == NeuronState::Dead))
        .expect("learning rate 3 kills a neuron within 400 steps");
    (session, dead)
}

#[test]
fn the_panel_says_how_it_died_and_plots_the_fall() {
    let (session, neuron) = dead_neuron_after(400);
    let NeuronAutopsy::Died(death) = neuron_autopsy(&session, neuron).unwrap() else { panic!("not born dead") };
    let id = (neuron.layer, neuron.neuron);
    let mut panel = AutopsyPanel::default();
    panel.ask(id);
    let settings = ViewSettings::default();
    let mut harness = Harness::builder().with_size(vec2(520.0, 640.0)).build_ui_state(
        move |ui, (panel, intents): &mut (AutopsyPanel, Vec<Intent>)| intents.extend(panel.ui(ui, &settings)),
        (panel, Vec::new()),
    );
    // A spinner turns while it waits: run frames, not until it settles.
    harness.run_steps(2);
    harness.get_by_label_contains("Replaying the run from the nearest checkpoint");
    // An answer for another neuron is not this one's.
    harness.state_mut().0.answer((9, 9), Err(AutopsyError::Diverged(1)));
    harness.run_steps(2);
    harness.get_by_label_contains("Replaying the run");
    harness.state_mut().0.answer(id, Ok(NeuronAutopsy::Died(death.clone())));
    harness.run();
    let words = format!("{} died at step {}: one update at learning rate 3", capital(&neuron.label()), death.step);
    harness.get_by_label_contains(&words);
    harness.get_by_label_contains(&format!("below zero from step {}", death.step));
    harness.get_by_label_contains("The batch: training points");
    harness.get_by_role_and_label(Role::Button, "Play the fall slowly").click();
    harness.run_steps(3);
    // The playhead moves with the harness's clock: it is somewhere between the trace's start
    // and the death, and the figure it shows is the trace's at that step.
    let (first, last) = (death.trace.first().expect("a trace").step, death.trace.last().expect("a trace").step);
    let playing = harness.get_by_label_contains(": largest pre-activation ").value().expect("a label");
    let (step, value) = playing.trim_start_matches("step ").split_once(": largest pre-activation ").expect("a figure");
    let step: u64 = step.parse().expect("a step");
    assert!((first..=last).contains(&step), "{playing}");
    let point = death.trace.iter().take_while(|point| point.step <= step).last().expect("a point");
    assert_eq!(value, format!("{:.3}", point.max_pre_activation));
    harness.get_by_role_and_label(Role::Button, "Select it").click();
    harness.run_steps(2);
    assert_eq!(harness.state().1, [Intent::Select(Some(id))]);
}

fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[test]
fn a_dead_tile_asks_how_it_died_from_its_tooltip_and_its_menu() {
    let (session, neuron) = dead_neuron_after(400);
    let mut session = session;
    let evaluation = session.evaluate();
    let mut snapshotter = Snapshotter::new(24);
    snapshotter.track(&session);
    let snapshot = snapshotter.snapshot(&session, &evaluation);
    let settings = ViewSettings::default();
    let mut view = NetworkView::default();
    let mut harness = Harness::builder().with_size(vec2(1100.0, 700.0)).build_ui_state(
        move |ui, intents: &mut Vec<Intent>| intents.extend(view.ui(ui, &snapshot, None, &settings)),
        Vec::new(),
    );
    harness.run();
    // The first frame tells the trainer which neurons are on screen; what follows is the click's.
    harness.state_mut().clear();
    let tile = format!("Layer {} neuron {}: dead", neuron.layer + 1, neuron.neuron + 1);
    harness.get_by_role_and_label(Role::Button, &tile).hover();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "How did it die?").click_accesskit();
    harness.run();
    assert_eq!(harness.state(), &[Intent::Autopsy((neuron.layer, neuron.neuron))]);
    harness.state_mut().clear();
    harness.get_by_role_and_label(Role::Button, &tile).click_secondary();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "How did it die?").click();
    harness.run();
    assert_eq!(harness.state(), &[Intent::Autopsy((neuron.layer, neuron.neuron))]);
}

#[test]
fn the_map_fills_in_from_its_thread_and_a_cell_opens_its_run() {
    let settings = ViewSettings::default();
    let base = RunConfig::default();
    let mut harness = Harness::builder().with_size(vec2(1100.0, 600.0)).build_ui_state(
        move |ui, (map, intents): &mut (MapView, Vec<Intent>)| {
            intents.extend(map.ui(ui, &base, "healthy-relu", &settings));
        },
        (MapView::with_settings(0, 200, 2), Vec::new()),
    );
    harness.run();
    harness.get_by_label_contains("learning rate 3, initial bias -5: not computed yet");
    harness.get_by_role_and_label(Role::Button, "Start").click();
    let deadline = Instant::now() + TIMEOUT;
    while harness.state().0.is_running() || harness.state().0.table().is_none() {
        assert!(Instant::now() < deadline, "the map did not finish");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run();
    let table = harness.state().0.table().unwrap().clone();
    assert!(table.is_complete(), "all 12 cells came");
    // The same figures as the sweep computed on this thread.
    let spec = relu_lab::train::sweep::SweepSpec::new(
        RunConfig::default(),
        "healthy-relu",
        relu_lab::train::sweep::Axis::parse("learning_rate", "0.01,0.1,1,3").unwrap(),
        relu_lab::train::sweep::Axis::parse("initial_bias", "0,-2,-5").unwrap(),
        1..=2,
        200,
    )
    .unwrap();
    let cells: Vec<usize> = (0..spec.cell_count()).collect();
    let direct = relu_lab::train::sweep::run_cells(&spec, &cells, 1, &|| false, &mut |_| {}).unwrap();
    for result in &direct {
        assert_eq!(table.cells[result.cell].as_ref(), Some(&result.summary));
    }
    harness.get_by_label_contains("learning rate 3, initial bias 0: dead").click();
    harness.run();
    let intents = &harness.state().1;
    let Some(Intent::Trainer(WorkerCommand::Load(config))) = intents.first() else { panic!("{intents:?}") };
    assert_eq!((config.training.learning_rate, config.network.initial_bias, config.seed), (3.0, 0.0, 1));
    assert_eq!(intents.last(), Some(&Intent::ToggleMap));
}

#[test]
fn in_the_app_the_trainer_answers_how_a_tile_died_and_the_map_opens() {
    let mut harness = app_harness_with(vec2(1280.0, 720.0), |ctx| ReluLabApp::new(Some(lesson_two()), None, ctx));
    wait_until_harness(&mut harness, "some neuron died", |h| {
        h.state().snapshot().is_some_and(|snapshot| snapshot.step() > 300 && snapshot.count(NeuronState::Dead) > 0)
    });
    harness.get_by_role_and_label(Role::Button, "Pause").click();
    harness.run_steps(3);
    let snapshot = harness.state().snapshot().cloned().unwrap();
    let (layer, neuron) = (0..snapshot.layers.len())
        .flat_map(|layer| (0..snapshot.layers[layer].neurons.len()).map(move |neuron| (layer, neuron)))
        .find(|&(layer, neuron)| snapshot.neuron(layer, neuron).is_some_and(|cell| cell.state == NeuronState::Dead))
        .expect("a dead tile");
    let dead = format!("Layer {} neuron {}: dead", layer + 1, neuron + 1);
    harness.get_by_role_and_label(Role::Button, &dead).click_secondary();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "How did it die?").click();
    wait_until_harness(&mut harness, "the autopsy came back", |h| {
        h.query_by_label_contains(" died at step ").is_some()
    });
    let name = format!("Layer {} neuron {}", layer + 1, neuron + 1);
    assert!(harness.query_by_label_contains(&format!("{name} died at step ")).is_some(), "{name}");

    harness.get_by_role_and_label(Role::Button, "Map").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Start").click();
    wait_until_harness(&mut harness, "a cell of the map came", |h| {
        h.query_by_label_contains("learning rate 0.01, initial bias 0: dead").is_some()
    });
    // The autopsy window may cover the cell: ask it through AccessKit, as a screen reader would.
    harness.get_by_label_contains("learning rate 0.01, initial bias 0: dead").click_accesskit();
    wait_until_harness(&mut harness, "the cell's run is the run", |h| {
        h.state().snapshot().is_some_and(|snapshot| snapshot.config.training.learning_rate == 0.01)
    });
    assert!(harness.query_by_label_contains("learning rate 0.01, initial bias 0:").is_none(), "back to the network");
}
