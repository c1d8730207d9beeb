//! The hover tooltip: the tile enlarged with the training inputs on it, and the neuron's live
//! numbers, its state in words and whether it can come back.

use egui::{Color32, Pos2, Rect, RichText, Sense, Vec2, pos2};

use super::paint::{paint_curve, paint_identity};
use super::{NetworkView, Picture, TileKind, accessible_label};
use crate::app::footprint::{FOOTPRINT_COLOR, to_tile};
use crate::app::shared::{Intent, NeuronId, ViewSettings, state_color, state_mark};
use crate::nn::NeuronState;
use crate::train::Snapshot;
use crate::train::config::OptimizerName;
use crate::train::snapshot::NeuronSnapshot;

/// The side of the enlarged response in the hover tooltip.
pub(super) const TOOLTIP_TILE: f32 = 180.0;

/// The most incoming weights listed in a tooltip.
pub(super) const MAX_LISTED_WEIGHTS: usize = 12;

impl NetworkView {
    /// The tooltip: the response enlarged, then the neuron's live numbers; for a neuron negative
    /// on every training input, a button that asks how it died.
    pub(super) fn tooltip_ui(
        &self,
        ui: &mut egui::Ui,
        snapshot: &Snapshot,
        kind: TileKind,
        settings: &ViewSettings,
    ) -> Option<Intent> {
        let mut intent = None;
        ui.label(RichText::new(accessible_label(snapshot, kind)).strong());
        let (rect, _) = ui.allocate_exact_size(Vec2::splat(TOOLTIP_TILE), Sense::hover());
        match self.picture(snapshot, kind, &self.scales) {
            Some(Picture::Texture(texture)) => {
                let uv = Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0));
                ui.painter().image(texture.id(), rect, uv, Color32::WHITE);
            }
            Some(Picture::Curve(values, scale)) => paint_curve(ui.painter(), rect, values, scale),
            None => paint_identity(ui.painter(), rect),
        }
        if matches!(kind, TileKind::Hidden(_)) && snapshot.grid.is_plane {
            paint_training_points(ui.painter(), rect, snapshot);
            self.footprint.paint(ui.painter(), rect, snapshot.grid.extent, FOOTPRINT_COLOR);
            ui.weak("Dots: the training inputs, where its state is measured");
        }
        match kind {
            TileKind::Hidden((layer, neuron)) => {
                if let Some(cell) = snapshot.neuron(layer, neuron) {
                    neuron_details_ui(ui, snapshot, cell, layer, settings);
                    intent = autopsy_button_ui(ui, cell, (layer, neuron));
                }
            }
            TileKind::Output => {
                ui.label(format!("Bias {:+.3}", snapshot.output_bias));
                ui.label(format!("Incoming weights: {}", weight_list(&snapshot.output_weights, "n")));
            }
            TileKind::Input(axis) => {
                ui.label(format!("The input x{}: blue where it is positive, orange where negative", axis + 1));
            }
        }
        intent
    }
}

/// "How did it die?" for a neuron negative on every training input (dead, or below zero).
pub(super) fn autopsy_button_ui(ui: &mut egui::Ui, cell: &NeuronSnapshot, id: NeuronId) -> Option<Intent> {
    if !matches!(cell.state, NeuronState::Dead | NeuronState::BelowZero) {
        return None;
    }
    let question = if cell.state == NeuronState::Dead { "How did it die?" } else { "How did it get here?" };
    ui.button(question)
        .on_hover_text("Replay the run to the exact update that put it below zero everywhere, and say what it moved")
        .clicked()
        .then_some(Intent::Autopsy(id))
}

/// The training inputs as small dots on an enlarged tile.
pub(super) fn paint_training_points(painter: &egui::Painter, rect: Rect, snapshot: &Snapshot) {
    let extent = snapshot.grid.extent;
    for point in &snapshot.points.train {
        let position = to_tile([point[0], point[1]], rect, extent);
        painter.circle_filled(position, 1.6, Color32::from_black_alpha(150));
    }
}

/// The numbers of a hidden neuron, for its tooltip.
pub(super) fn neuron_details_ui(
    ui: &mut egui::Ui,
    snapshot: &Snapshot,
    cell: &NeuronSnapshot,
    layer: usize,
    settings: &ViewSettings,
) {
    let color = state_color(cell.state, settings);
    let mark = state_mark(cell.state);
    let since = match cell.state {
        NeuronState::Alive => format!("alive since step {}", cell.state_since),
        NeuronState::Dead => format!("dead on every training input since step {}", cell.state_since),
        NeuronState::BelowZero => format!("below zero on every training input since step {}", cell.state_since),
        state => format!("{} since step {}", state.label(), cell.state_since),
    };
    ui.label(RichText::new(format!("{mark} {since}").trim().to_owned()).color(color).strong());
    if let Some(step) = cell.last_revived_at {
        let times = if cell.revivals > 1 { format!(" ({} times in all)", cell.revivals) } else { String::new() };
        ui.label(format!("Revived at step {step}{times}"));
    }
    ui.label(format!("Active (z > 0) on {:.1}% of training inputs", cell.fraction_active * 100.0));
    ui.label(format!("Bias {:+.3}", cell.bias));
    if let Some(slope) = cell.prelu_slope {
        ui.label(format!("PReLU slope {slope:.3}"));
    }
    let source = if layer == 0 { "x" } else { "n" };
    ui.label(format!("Incoming weights: {}", weight_list(cell.incoming_weights(), source)));
    if let Some(text) = state_explanation(snapshot, cell, layer) {
        ui.label(text);
    }
    ui.weak("Click to select it for the detail plots; right-click for more");
}

/// Why a dead or below-zero neuron is in that state and whether it can leave it: true for its
/// layer, activation and optimizer.
pub(super) fn state_explanation(snapshot: &Snapshot, cell: &NeuronSnapshot, layer: usize) -> Option<String> {
    match cell.state {
        NeuronState::Dead => {
            let optimizer = snapshot.config.training.optimizer;
            let future = match (layer, optimizer) {
                (_, OptimizerName::Momentum | OptimizerName::Adam) => {
                    "The optimizer's memory still moves it for a while, so it may come back."
                }
                (0, OptimizerName::Sgd) => {
                    "In layer 1 under plain SGD no update can bring it back; moving the bias offset or reviving it can."
                }
                (_, OptimizerName::Sgd) => "It comes back only if the layers below it change its inputs.",
            };
            Some(format!(
                "Its pre-activation is ≤ 0 on every training input: it outputs 0 there and its weights get no \
                 gradient. {future}"
            ))
        }
        NeuronState::BelowZero => Some(match cell.prelu_slope {
            Some(slope) => format!(
                "Its pre-activation is ≤ 0 on every training input; PReLU passes it {} of the gradient (its \
                 slope, {slope:.3}) and still learns that slope, so it can climb back.",
                percent_text(cell.mean_gradient_factor)
            ),
            None => format!(
                "Its pre-activation is ≤ 0 on every training input, but {} still passes it {} of the gradient on \
                 average, so it can climb back.",
                snapshot.activation.kind().label(),
                percent_text(cell.mean_gradient_factor)
            ),
        }),
        _ => None,
    }
}

/// A share as a percentage that stays readable when it is tiny: "10%", "0.67%", "0.0045%".
pub(super) fn percent_text(share: f32) -> String {
    let percent = f64::from(share) * 100.0;
    if percent >= 10.0 {
        format!("{percent:.0}%")
    } else if percent >= 0.01 {
        format!("{percent:.2}%")
    } else {
        format!("{percent:.1e}%")
    }
}

/// `x1 +0.52, x2 -1.20`, at most [`MAX_LISTED_WEIGHTS`] of them.
pub(super) fn weight_list(weights: &[f32], source: &str) -> String {
    let mut parts: Vec<String> = weights
        .iter()
        .take(MAX_LISTED_WEIGHTS)
        .enumerate()
        .map(|(i, w)| format!("{source}{} {w:+.2}", i + 1))
        .collect();
    if weights.len() > MAX_LISTED_WEIGHTS {
        parts.push(format!("… ({} in all)", weights.len()));
    }
    parts.join(", ")
}
