//! The comparison screen: branch A and branch B side by side, each with its network (tiles and
//! states) and its output, under a readout of the differences that matter and the controls
//! that steer the comparison: which branch a change goes to, and which branch to keep.

use egui::RichText;

use super::network_view::NetworkView;
use super::output_view::{compact_output_ui, output_summary_ui};
use super::plots::legend_ui;
use super::shared::{Intent, NeuronId, ViewSettings, state_color};
use crate::nn::NeuronState;
use crate::nn::diagnostics::possible_states;
use crate::train::ensemble::ForkInfo;
use crate::train::seeds::DEFAULT_SEEDS;
use crate::train::{Branch, Snapshot, Target, WorkerCommand};

/// The share of a branch column the network takes (the output map gets the rest).
const NETWORK_SHARE: f32 = 0.6;
/// Below this height a branch column shows its network and its numbers, not its output map.
const MIN_ROOM_FOR_MAP: f32 = 380.0;

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
        key_ui(ui, comparison.a, settings);
        ui.separator();
        let Self { a, b } = self;
        ui.columns(2, |columns| {
            let branches = [(Branch::A, comparison.a, a), (Branch::B, comparison.b, b)];
            for ((branch, snapshot, view), ui) in branches.into_iter().zip(columns.iter_mut()) {
                ui.push_id(branch.letter(), |ui| {
                    intents.extend(branch_ui(ui, branch, snapshot, comparison.fork, view, selection, settings));
                });
            }
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
        if let (Some(x), Some(y)) = (a.evaluation.test_accuracy, b.evaluation.test_accuracy) {
            ui.label(format!("· test accuracy: A {:.1}% vs B {:.1}%", x * 100.0, y * 100.0));
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
fn key_ui(ui: &mut egui::Ui, snapshot: &Snapshot, settings: &ViewSettings) {
    let mut entries: Vec<(&str, String, egui::Color32)> = possible_states(snapshot.activation)
        .iter()
        .map(|&state| ("■", state.label().to_owned(), state_color(state, settings)))
        .collect();
    entries.push((
        "",
        "frame: the neuron's state · tile: its output over the plane".to_owned(),
        ui.visuals().weak_text_color(),
    ));
    legend_ui(ui, &entries);
}

/// One branch: what it is, its network, its output.
fn branch_ui(
    ui: &mut egui::Ui,
    branch: Branch,
    snapshot: &Snapshot,
    fork: &ForkInfo,
    view: &mut NetworkView,
    selection: Option<NeuronId>,
    settings: &ViewSettings,
) -> Vec<Intent> {
    let what = match branch {
        Branch::A => format!(
            "A: as it was: {}, learning rate {}",
            snapshot.activation,
            crate::train::settings::short(snapshot.evaluation.learning_rate)
        ),
        Branch::B => fork.description.clone(),
    };
    ui.label(RichText::new(what).strong());
    // The output map only where it can be read; the network first.
    let room = ui.available_height();
    let has_map = room >= MIN_ROOM_FOR_MAP;
    let line = ui.text_style_height(&egui::TextStyle::Body) * 3.4;
    let height = if has_map { room * NETWORK_SHARE } else { room - line };
    let mut intents = Vec::new();
    ui.allocate_ui(egui::vec2(ui.available_width(), height.max(120.0)), |ui| {
        intents = view.ui(ui, snapshot, selection, settings);
    });
    if has_map {
        compact_output_ui(ui, snapshot, settings);
    } else {
        output_summary_ui(ui, snapshot, settings);
    }
    intents
}
