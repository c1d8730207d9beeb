//! The seeds view: one small network per seed (its tiles in their state colours, its dead
//! count, collapsed or not, its accuracy), under a summary over all seeds. Click a network to
//! open it as the run.

use std::collections::HashMap;

use egui::{Color32, Rect, RichText, Sense, Stroke, StrokeKind, TextureHandle, pos2, vec2};

use super::network_view::textures::{curve_scale, response_image, update_textures};
use super::output_view::test_accuracy_text;
use super::plots::{legend_ui, snapshot_fingerprint};
use super::shared::{Intent, ViewSettings, state_color};
use crate::nn::NeuronState;
use crate::nn::diagnostics::possible_states;
use crate::train::seeds::{LaneView, SeedsView};
use crate::train::{Snapshot, WorkerCommand};

/// The narrowest a seed's card may be.
const MIN_CARD_WIDTH: f32 = 170.0;
/// The lowest a seed's card may be.
const MIN_CARD_HEIGHT: f32 = 100.0;

/// The tiles' textures per seed and branch, rebuilt only when that snapshot changes.
#[derive(Default)]
pub(super) struct SeedsPanel {
    textures: HashMap<(u64, bool), (u64, Vec<TextureHandle>)>,
}

impl SeedsPanel {
    /// Draws the summary and every seed's card.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, view: &SeedsView, settings: &ViewSettings) -> Vec<Intent> {
        let mut intents = Vec::new();
        // The seeds' own step (every seed trains in lockstep), not the waiting run's.
        let now = view.step;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{} seeds at once, at step {now}", view.lanes.len())).strong());
            if let Some(step) = view.fork_step {
                let is_forked = view.lanes.iter().any(|lane| lane.b.is_some());
                ui.label(if is_forked {
                    format!("· each forked at step {step}: A on the left of a card, B on the right")
                } else {
                    format!("· each will fork at step {step} (now at step {now})")
                });
            }
            ui.label("· click a network to open it as the run");
            if ui.button("Close the seeds view").on_hover_text("Back to the run as it was").clicked() {
                intents.push(Intent::Trainer(WorkerCommand::CloseSeeds));
            }
        });
        for line in &view.summary {
            ui.label(RichText::new(line).strong());
        }
        key_ui(ui, view, settings);
        ui.separator();
        let (columns, card) = grid(ui.available_size(), view.lanes.len());
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            for (row, lanes) in view.lanes.chunks(columns).enumerate() {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 0.0;
                    for (column, lane) in lanes.iter().enumerate() {
                        if self.card_ui(ui, lane, card, settings).clicked() {
                            intents.push(Intent::Trainer(WorkerCommand::OpenSeed(row * columns + column)));
                        }
                    }
                });
            }
        });
        intents
    }

    /// One seed's card; clicking it opens the seed.
    fn card_ui(
        &mut self,
        ui: &mut egui::Ui,
        lane: &LaneView,
        size: egui::Vec2,
        settings: &ViewSettings,
    ) -> egui::Response {
        let (rect, response) = ui.allocate_exact_size(size, Sense::click());
        let rect = rect.shrink(3.0);
        let painter = ui.painter_at(rect);
        let visuals = ui.visuals();
        let frame_color = if response.hovered() { visuals.strong_text_color() } else { visuals.weak_text_color() };
        painter.rect_stroke(rect, 4.0, Stroke::new(1.0, frame_color), StrokeKind::Inside);
        let font = egui::TextStyle::Small.resolve(ui.style());
        let line_height = font.size + 3.0;
        painter.text(
            rect.left_top() + vec2(6.0, 3.0),
            egui::Align2::LEFT_TOP,
            format!("Seed {}", lane.seed),
            font.clone(),
            visuals.strong_text_color(),
        );
        let branches: Vec<(&Snapshot, Option<bool>, &str)> = match &lane.b {
            Some(b) => vec![(lane.a.as_ref(), lane.born_dead_a, "A"), (b.as_ref(), lane.born_dead_b, "B")],
            None => vec![(lane.a.as_ref(), lane.born_dead_a, "")],
        };
        // One status line per branch under the title, then the networks side by side.
        let mut y = rect.top() + 3.0 + line_height;
        for (snapshot, born_dead, letter) in &branches {
            let color = if snapshot.is_collapsed() || snapshot.count(NeuronState::Dead) > 0 {
                state_color(NeuronState::Dead, settings)
            } else {
                visuals.text_color()
            };
            // Wrapped rather than cut off where a card is narrow.
            let status =
                painter.layout(status_line(snapshot, *born_dead, letter), font.clone(), color, rect.width() - 12.0);
            let height = status.size().y;
            painter.galley(pos2(rect.left() + 6.0, y), status, color);
            y += height + 3.0;
        }
        let body = Rect::from_min_max(pos2(rect.left() + 4.0, y + 2.0), rect.right_bottom() - vec2(4.0, 4.0));
        let part_width = body.width() / branches.len() as f32;
        for (index, (snapshot, _, letter)) in branches.into_iter().enumerate() {
            let part = Rect::from_min_size(
                body.left_top() + vec2(part_width * index as f32, 0.0),
                vec2(part_width, body.height()),
            );
            let tiles = if letter.is_empty() {
                part
            } else {
                let weak = visuals.weak_text_color();
                painter.text(
                    part.left_center() + vec2(2.0, 0.0),
                    egui::Align2::LEFT_CENTER,
                    letter,
                    font.clone(),
                    weak,
                );
                part.with_min_x(part.left() + font.size + 4.0)
            };
            let textures = self.textures_for(ui.ctx(), lane.seed, letter == "B", snapshot);
            paint_network(&painter, tiles, snapshot, textures, settings);
        }
        let words = format!("Seed {}: {}", lane.seed, status_line(&lane.a, lane.born_dead_a, ""));
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, words.clone()));
        // No tooltip: it would cover the title of the card below; the header says a click
        // opens a seed, and the card's frame lights up under the pointer.
        response
    }

    /// The tiles' textures of one seed's branch (none for 1-D sets, drawn as curves).
    fn textures_for(&mut self, ctx: &egui::Context, seed: u64, is_b: bool, snapshot: &Snapshot) -> &[TextureHandle] {
        let key = snapshot_fingerprint(snapshot);
        let entry = self.textures.entry((seed, is_b)).or_insert_with(|| (key.wrapping_add(1), Vec::new()));
        if entry.0 != key {
            entry.0 = key;
            let side = snapshot.grid.resolution;
            let images: Vec<egui::ColorImage> = if snapshot.grid.is_plane {
                neurons(snapshot).map(|n| response_image(n.response(), side, curve_scale(n.response()))).collect()
            } else {
                Vec::new()
            };
            entry.1 = update_textures(ctx, std::mem::take(&mut entry.1), images);
        }
        &entry.1
    }
}

/// What a tile's frame colour means: every state a tile of any seed can show (B's activation
/// may differ from A's).
fn key_ui(ui: &mut egui::Ui, view: &SeedsView, settings: &ViewSettings) {
    let activations: Vec<crate::nn::Activation> = view
        .lanes
        .iter()
        .flat_map(|lane| std::iter::once(lane.a.activation).chain(lane.b.as_ref().map(|b| b.activation)))
        .collect();
    let entries: Vec<(&str, String, Color32)> = NeuronState::ALL
        .into_iter()
        .filter(|state| activations.iter().any(|&activation| possible_states(activation).contains(state)))
        .map(|state| ("■", state.label().to_owned(), state_color(state, settings)))
        .collect();
    legend_ui(ui, &entries);
}

/// The columns and card size for `count` cards in `room`: the largest cards that show every
/// seed at once, or, when none fit, cards of the least size in as many columns as fit.
fn grid(room: egui::Vec2, count: usize) -> (usize, egui::Vec2) {
    let count = count.max(1);
    let card_for = |columns: usize| vec2(room.x / columns as f32, room.y / count.div_ceil(columns) as f32);
    let fits = |card: egui::Vec2| card.x >= MIN_CARD_WIDTH && card.y >= MIN_CARD_HEIGHT;
    let best = (1..=count)
        .map(|columns| (columns, card_for(columns)))
        .filter(|&(_, card)| fits(card))
        .max_by(|(_, x), (_, y)| x.min_elem().total_cmp(&y.min_elem()));
    best.unwrap_or_else(|| {
        let columns = ((room.x / MIN_CARD_WIDTH).floor() as usize).clamp(1, count);
        (columns, vec2(room.x / columns as f32, MIN_CARD_HEIGHT))
    })
}

/// Every hidden neuron a card shows (a wide layer's first ones, `LayerSnapshot::shown`), layer
/// by layer.
fn neurons(snapshot: &Snapshot) -> impl Iterator<Item = &crate::train::snapshot::NeuronSnapshot> {
    snapshot.layers.iter().flat_map(|layer| layer.shown.indices().filter_map(|neuron| layer.neurons.get(neuron)))
}

/// "A: 7 dead · 45.6% · collapsed · born dead" (no accuracy once the outputs are NaN: "—").
fn status_line(snapshot: &Snapshot, born_dead: Option<bool>, letter: &str) -> String {
    let mut parts = Vec::new();
    if !letter.is_empty() {
        parts.push(format!("{letter}:"));
    }
    parts.push(format!("{} dead", snapshot.count(NeuronState::Dead)));
    if let Some(accuracy) = test_accuracy_text(&snapshot.evaluation) {
        parts.push(format!("· {accuracy}"));
    }
    if snapshot.is_collapsed() {
        parts.push("· collapsed".to_owned());
    }
    if born_dead == Some(true) {
        parts.push("· born dead".to_owned());
    }
    parts.join(" ")
}

/// The hidden layers as columns of tiles, each framed in its state's colour.
fn paint_network(
    painter: &egui::Painter,
    rect: Rect,
    snapshot: &Snapshot,
    textures: &[TextureHandle],
    settings: &ViewSettings,
) {
    let layers = snapshot.layers.len().max(1);
    let tallest = snapshot.layers.iter().map(|layer| layer.shown.count).max().unwrap_or(1).max(1);
    let side = (rect.width() / layers as f32).min(rect.height() / tallest as f32) * 0.8;
    if side < 2.0 {
        return;
    }
    let mut texture = textures.iter();
    for (column, layer) in snapshot.layers.iter().enumerate() {
        let x = rect.left() + (column as f32 + 0.5) * rect.width() / layers as f32;
        let top = rect.center().y - layer.shown.count as f32 * side / 0.8 / 2.0;
        let shown = layer.shown.indices().filter_map(|neuron| layer.neurons.get(neuron));
        for (row, neuron) in shown.enumerate() {
            let center = pos2(x, top + (row as f32 + 0.5) * side / 0.8);
            let tile = Rect::from_center_size(center, vec2(side, side));
            match texture.next() {
                Some(handle) => {
                    let uv = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
                    painter.image(handle.id(), tile, uv, Color32::WHITE);
                }
                None => paint_curve(painter, tile, neuron.response()),
            }
            let width = if neuron.state == NeuronState::Alive { 1.0 } else { 2.0 };
            painter.rect_stroke(
                tile,
                1.0,
                Stroke::new(width, state_color(neuron.state, settings)),
                StrokeKind::Outside,
            );
        }
    }
}

/// A 1-D response as a small curve on a light tile.
fn paint_curve(painter: &egui::Painter, tile: Rect, values: &[f32]) {
    painter.rect_filled(tile, 1.0, Color32::from_gray(235));
    let scale = curve_scale(values);
    let count = values.len().max(2) as f32 - 1.0;
    let points: Vec<egui::Pos2> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let value = if v.is_finite() { v / scale } else { 0.0 };
            pos2(
                tile.left() + tile.width() * i as f32 / count,
                tile.bottom() - tile.height() * (0.1 + 0.8 * value.max(0.0)),
            )
        })
        .collect();
    painter.line(points, Stroke::new(1.0, Color32::from_rgb(0, 90, 160)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_cards_fit_at_once_where_they_can() {
        // The centre of a 1280×720 window with the plots hidden.
        let (columns, card) = grid(vec2(750.0, 560.0), 10);
        assert_eq!(columns, 4);
        assert!(card.y * 3.0 <= 560.0 && card.x >= MIN_CARD_WIDTH);
        // Too little room: the least height, in as many columns as fit (a scroll area holds them).
        let (columns, card) = grid(vec2(400.0, 150.0), 10);
        assert_eq!((columns, card.y), (2, MIN_CARD_HEIGHT));
    }
}
