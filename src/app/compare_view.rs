//! The comparison screen: branch A and branch B side by side, each with its network (tiles and
//! states) and its output, under a readout of the differences that matter and the controls
//! that steer the comparison: which branch a change goes to, and which branch to keep.

use egui::RichText;

use super::network_view::NetworkView;
use super::output_view::{compact_output_map_ui, output_summary_ui, test_accuracy_text};
use super::plots::legend_ui;
use super::shared::{Intent, NeuronId, ViewSettings, plain_columns, state_color};
use crate::nn::NeuronState;
use crate::nn::diagnostics::possible_states;
use crate::train::ensemble::ForkInfo;
use crate::train::seeds::DEFAULT_SEEDS;
use crate::train::{Branch, Snapshot, Target, WorkerCommand};

/// The share of a branch column the network takes (the output map gets the rest).
const NETWORK_SHARE: f32 = 0.6;
/// Below this height a branch column shows its network and its numbers, not its output map.
const MIN_ROOM_FOR_MAP: f32 = 380.0;
/// The same, presenting: the networks come first, and their tiles must be large.
const MIN_ROOM_FOR_MAP_PRESENTING: f32 = 640.0;

/// Both branches' network views (each keeps its own textures).
pub(super) struct CompareView {
    a: NetworkView,
    b: NetworkView,
}

impl Default for CompareView {
    fn default() -> Self {
        // The key is drawn once, above both networks.
        let a = NetworkView::without_key();
        // Both branches show the same neurons of a wide layer, side by side.
        let b = NetworkView::without_key().sharing_windows_with(&a);
        Self { a, b }
    }
}

/// What the comparison screen shows.
pub(super) struct Comparison<'a> {
    /// Branch A.
    pub(super) a: &'a Snapshot,
    /// Branch B.
    pub(super) b: &'a Snapshot,
    /// Where B forked and what it is.
    pub(super) fork: &'a ForkInfo,
    /// Where changes go now.
    pub(super) target: Target,
}

impl CompareView {
    /// Draws the readout and both branches.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        comparison: &Comparison<'_>,
        selection: Option<NeuronId>,
        settings: &ViewSettings,
    ) -> Vec<Intent> {
        let mut intents = readout_ui(ui, comparison, settings);
        key_ui(ui, comparison.a, comparison.b, settings);
        ui.separator();
        let Self { a, b } = self;
        let mut branches = [(Branch::A, comparison.a, a), (Branch::B, comparison.b, b)];
        plain_columns(ui, 2, |index, ui| {
            let (branch, snapshot, view) = &mut branches[index];
            ui.push_id(branch.letter(), |ui| {
                intents.extend(branch_ui(ui, *branch, snapshot, comparison.fork, view, selection, settings));
            });
        });
        intents
    }
}

/// The differences that matter, where changes go, and how the comparison ends.
fn readout_ui(ui: &mut egui::Ui, comparison: &Comparison<'_>, settings: &ViewSettings) -> Vec<Intent> {
    let Comparison { a, b, fork, target } = comparison;
    let mut intents = Vec::new();
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("Forked at step {}", fork.step)).strong());
        ui.label(format!("· {} steps since ·", fork.steps_since));
        let dead_color = state_color(NeuronState::Dead, settings);
        ui.label(
            RichText::new(format!("dead: A {} vs B {}", a.count(NeuronState::Dead), b.count(NeuronState::Dead)))
                .color(dead_color),
        );
        if let (Some(x), Some(y)) = (test_accuracy_text(&a.evaluation), test_accuracy_text(&b.evaluation)) {
            ui.label(format!("· test accuracy: A {x} vs B {y}"));
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("Changes go to:");
        for choice in [Target::A, Target::B, Target::Both] {
            let text = match choice {
                Target::Both => "A and B".to_owned(),
                _ => choice.label().to_owned(),
            };
            if ui
                .selectable_label(*target == choice, text)
                .on_hover_text("Where the controls on the left send a change (learning rate, activation, …)")
                .clicked()
            {
                intents.push(Intent::SetTarget(choice));
            }
        }
        ui.separator();
        for branch in [Branch::A, Branch::B] {
            let button = ui
                .button(format!("Keep {}", branch.letter()))
                .on_hover_text(format!("End the comparison and go on with {} (its history stays)", branch.letter()));
            if button.clicked() {
                intents.push(Intent::Trainer(WorkerCommand::Keep(branch)));
            }
        }
        if ui.button("Ten seeds").on_hover_text("Run this comparison on ten seeds at once").clicked() {
            intents.push(Intent::Trainer(WorkerCommand::OpenSeeds { count: DEFAULT_SEEDS }));
        }
    });
    intents
}

/// What a tile's frame colour means, once for both networks.
fn key_ui(ui: &mut egui::Ui, a: &Snapshot, b: &Snapshot, settings: &ViewSettings) {
    let mut entries: Vec<(&str, String, egui::Color32)> = states_of_both(a, b)
        .into_iter()
        .map(|state| ("■", state.label().to_owned(), state_color(state, settings)))
        .collect();
    entries.push((
        "",
        "frame: the neuron's state · tile: its output over the plane".to_owned(),
        ui.visuals().weak_text_color(),
    ));
    legend_ui(ui, &entries);
}

/// Every state a tile of A or of B can show (B may have another activation: Leaky ReLU's
/// "below zero" beside ReLU's "dead"), in the order of [`NeuronState::ALL`].
fn states_of_both(a: &Snapshot, b: &Snapshot) -> Vec<NeuronState> {
    let (in_a, in_b) = (possible_states(a.activation), possible_states(b.activation));
    NeuronState::ALL.into_iter().filter(|state| in_a.contains(state) || in_b.contains(state)).collect()
}

/// One branch: what it is, its numbers, its network and (where there is room) its output
/// map. The numbers come before the network, which takes the height that is left: no readout
/// is ever pushed out of view.
fn branch_ui(
    ui: &mut egui::Ui,
    branch: Branch,
    snapshot: &Snapshot,
    fork: &ForkInfo,
    view: &mut NetworkView,
    selection: Option<NeuronId>,
    settings: &ViewSettings,
) -> Vec<Intent> {
    branch_title_ui(ui, branch, snapshot, fork);
    output_summary_ui(ui, snapshot, settings);
    // The output map only where it can be read beside a network of readable tiles.
    let room = ui.available_height();
    let min_room_for_map = if settings.presentation { MIN_ROOM_FOR_MAP_PRESENTING } else { MIN_ROOM_FOR_MAP };
    let has_map = room >= min_room_for_map;
    let height = if has_map { room * NETWORK_SHARE } else { room };
    let mut intents = Vec::new();
    ui.allocate_ui(egui::vec2(ui.available_width(), height.max(120.0)), |ui| {
        intents = view.ui(ui, snapshot, selection, settings);
    });
    if has_map {
        compact_output_map_ui(ui, snapshot, settings);
    }
    intents
}

/// "A: as it was: ReLU, learning rate 3", or what B is.
fn branch_title_ui(ui: &mut egui::Ui, branch: Branch, snapshot: &Snapshot, fork: &ForkInfo) {
    let what = match branch {
        Branch::A => format!(
            "A: as it was: {}, learning rate {}",
            snapshot.activation,
            crate::train::settings::short(snapshot.evaluation.learning_rate)
        ),
        Branch::B => fork.description.clone(),
    };
    ui.label(RichText::new(what).strong());
}

impl CompareView {
    /// The comparison in one column (a narrow window): the readout, then A and then B, each
    /// with its numbers and a network `network_height` high.
    pub(super) fn stacked_ui(
        &mut self,
        ui: &mut egui::Ui,
        comparison: &Comparison<'_>,
        network_height: f32,
        selection: Option<NeuronId>,
        settings: &ViewSettings,
    ) -> Vec<Intent> {
        let mut intents = readout_ui(ui, comparison, settings);
        key_ui(ui, comparison.a, comparison.b, settings);
        let Self { a, b } = self;
        for (branch, snapshot, view) in [(Branch::A, comparison.a, a), (Branch::B, comparison.b, b)] {
            ui.separator();
            ui.push_id(branch.letter(), |ui| {
                branch_title_ui(ui, branch, snapshot, comparison.fork);
                output_summary_ui(ui, snapshot, settings);
                ui.allocate_ui(egui::vec2(ui.available_width(), network_height), |ui| {
                    intents.extend(view.ui(ui, snapshot, selection, settings));
                });
            });
        }
        intents
    }
}
