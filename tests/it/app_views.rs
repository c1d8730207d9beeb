//! The network view, the output view and the plots, rendered headless with egui_kittest on
//! snapshots of real sessions: state labels reach AccessKit, clicks come back as intents, and
//! nothing panics on an empty or a live history.

use egui::vec2;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use relu_lab::app::network_view::NetworkView;
use relu_lab::app::output_view::output_ui;
use relu_lab::app::plots;
use relu_lab::app::shared::{Intent, ViewSettings};
use relu_lab::app::theme;
use relu_lab::train::command::Annotation;
use relu_lab::train::{History, HistoryPoint, RunConfig, Session, Snapshot, Snapshotter};

use crate::support::preset;

/// Runs `config` for `steps` steps, recording a history point every 10 steps, and returns the
/// last snapshot with the history (plus one annotation, as a slider change would add).
fn run(config: RunConfig, steps: u64) -> (Snapshot, History) {
    let mut session = Session::new(config).expect("valid config");
    let mut snapshotter = Snapshotter::new(24);
    let mut history = History::default();
    for step in 0..steps {
        session.step();
        if step % 10 == 0 {
            let evaluation = session.evaluate();
            snapshotter.track(&session);
            history.push(HistoryPoint::from_evaluation(&evaluation));
        }
    }
    history.annotate(Annotation { step: steps / 2, text: "learning rate 0.03 → 3".to_owned() });
    let evaluation = session.evaluate();
    (snapshotter.snapshot(&session, &evaluation), history)
}

/// Every hidden bias at -50: no input can make a ReLU neuron of the first layer fire.
fn born_dead() -> RunConfig {
    let mut config = RunConfig::default();
    config.network.initial_bias = -50.0;
    config
}

/// A harness builder of `width × height` with the app's fonts and styles for `settings`.
fn builder<State>(width: f32, height: f32, settings: &ViewSettings) -> egui_kittest::HarnessBuilder<State> {
    let settings = settings.clone();
    Harness::builder().with_size(vec2(width, height)).with_context_setup(move |ctx| {
        theme::install_fonts(ctx);
        theme::apply(ctx, &settings, None);
    })
}

fn network_harness(snapshot: Snapshot, settings: ViewSettings) -> Harness<'static, Option<Intent>> {
    let mut view = NetworkView::default();
    builder(1100.0, 700.0, &settings).build_ui_state(
        move |ui, intent: &mut Option<Intent>| {
            if let Some(new) = view.ui(ui, &snapshot, None, &settings).pop() {
                *intent = Some(new);
            }
        },
        None,
    )
}

#[test]
fn a_dead_neuron_tile_says_dead_to_accesskit() {
    let (snapshot, _) = run(born_dead(), 5);
    assert!(snapshot.layers[0].neurons.iter().all(|n| n.state == relu_lab::nn::NeuronState::Dead));
    let mut harness = network_harness(snapshot, ViewSettings::default());
    harness.run();
    harness.get_by_label("Layer 1 neuron 1: dead");
    assert_eq!(harness.get_all_by_label_contains("Layer 1 neuron").count(), 8);
    assert!(harness.get_all_by_label_contains(": dead").count() >= 8);
}

#[test]
fn the_negative_bias_preset_shows_dead_tiles() {
    let (snapshot, _) = run(preset("negative-bias"), 50);
    let dead = snapshot.count(relu_lab::nn::NeuronState::Dead);
    assert!(dead > 0, "the preset kills neurons");
    let mut harness = network_harness(snapshot, ViewSettings { presentation: true, ..ViewSettings::default() });
    harness.run();
    assert_eq!(harness.query_all_by_label_contains(": dead").count(), dead);
}

#[test]
fn clicking_a_tile_selects_its_neuron() {
    let (snapshot, _) = run(RunConfig::default(), 20);
    let mut harness = network_harness(snapshot, ViewSettings::default());
    harness.run();
    harness.get_by_label_contains("Layer 2 neuron 3:").click();
    harness.run();
    assert_eq!(harness.state(), &Some(Intent::Select(Some((1, 2)))));
}

#[test]
fn hovering_a_tile_shows_its_numbers() {
    let (snapshot, _) = run(born_dead(), 5);
    let mut harness = network_harness(snapshot, ViewSettings::default());
    harness.run();
    harness.get_by_label("Layer 1 neuron 2: dead").hover();
    harness.run();
    harness.get_by_label_contains("dead on every training input since step 0");
    harness.get_by_label_contains("Incoming weights: x1");
    // Layer 1 under plain SGD: for good, and it says so; never "cannot recover" for other cases.
    harness.get_by_label_contains("In layer 1 under plain SGD no update can bring it back");
}

/// Renders every plot and the output view for `snapshot` and `history`.
fn render_panels(snapshot: Snapshot, history: History, settings: ViewSettings) -> Vec<Intent> {
    let mut harness = builder(900.0, 2400.0, &settings).build_ui_state(
        move |ui, intents: &mut Vec<Intent>| {
            let selection = Some((0, 1));
            output_ui(ui, &snapshot, &settings);
            plots::loss_plot::ui(ui, &history, &settings);
            plots::states_plot::ui(ui, &history, &settings);
            plots::activation_curve::ui(ui, &snapshot, selection, &settings);
            plots::activation_curve::ui(ui, &snapshot, None, &settings);
            intents.extend(plots::neuron_time_chart::ui(ui, &history, Some(&snapshot), selection, &settings));
            intents.extend(plots::neuron_time_chart::ui(ui, &history, None, None, &settings));
            plots::gradient_plot::ui(ui, &history, &settings);
            intents.extend(plots::activation_matrix::ui(ui, &snapshot, selection, &settings));
        },
        Vec::new(),
    );
    harness.run();
    harness.into_state()
}

#[test]
fn the_plots_render_with_an_empty_history() {
    let (snapshot, _) = run(RunConfig::default(), 0);
    let intents = render_panels(snapshot, History::default(), ViewSettings::default());
    assert!(intents.is_empty());
}

#[test]
fn the_plots_render_a_live_history_in_both_themes_and_scales() {
    let (snapshot, history) = run(preset("high-learning-rate"), 200);
    assert!(history.points.len() >= 10);
    for settings in
        [ViewSettings::default(), ViewSettings { presentation: true, dark_theme: false, log_loss: false, lesson: 0 }]
    {
        let intents = render_panels(snapshot.clone(), history.clone(), settings);
        assert!(intents.is_empty(), "rendering alone selects nothing");
    }
}

#[test]
fn one_dimensional_sets_draw_curves() {
    let (snapshot, history) = run(preset("deep-narrow-he"), 30);
    assert!(!snapshot.grid.is_plane);
    render_panels(snapshot.clone(), history, ViewSettings::default());
    let mut harness = network_harness(snapshot, ViewSettings::default());
    harness.run();
    assert_eq!(harness.get_all_by_label_contains("Layer 9 neuron").count(), 3);
    harness.get_by_label("Input x1");
    harness.get_by_label("Output");
}

#[test]
fn clicking_a_row_of_the_activation_matrix_selects_that_neuron() {
    let (snapshot, _) = run(RunConfig::default(), 20);
    let settings = ViewSettings::default();
    let mut harness = builder(600.0, 400.0, &settings).build_ui_state(
        move |ui, intent: &mut Option<Intent>| {
            if let Some(new) = plots::activation_matrix::ui(ui, &snapshot, None, &settings) {
                *intent = Some(new);
            }
        },
        None,
    );
    harness.run();
    // The plot fills the window below its title; rows run top to bottom, 8 of them.
    let plot = harness.get_by_label_contains("Layer 1 activations").rect();
    let below = egui::pos2(300.0, plot.bottom() + 40.0);
    harness.hover_at(below);
    harness.run();
    harness.event(egui::Event::PointerButton {
        pos: below,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.event(egui::Event::PointerButton {
        pos: below,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.run();
    assert!(matches!(harness.state(), Some(Intent::Select(Some((0, _))))), "got {:?}", harness.state());
}
