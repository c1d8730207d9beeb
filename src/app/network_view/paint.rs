//! Painting: tiles with their state frames, marks and words, bias bars, column headers, the
//! edges, and the legend.

use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, StrokeKind, pos2, vec2};

use super::layout::{Fonts, Layout, MIN_LABELLED_TILE};
use super::{NetworkView, Picture, TileKind, tile_bias};
use crate::app::footprint::FOOTPRINT_COLOR;
use crate::app::output_view::{CLASS_ONE_COLOR, CLASS_ZERO_COLOR};
use crate::app::shared::{NeuronId, ViewSettings, state_color, state_mark};
use crate::nn::NeuronState;
use crate::nn::diagnostics::possible_states;
use crate::train::Snapshot;
use crate::train::snapshot::LayerSnapshot;

impl NetworkView {
    /// Paints tile `kind` into `rect`.
    #[expect(clippy::too_many_arguments, reason = "a tile needs the whole context of the view")]
    pub(super) fn paint_tile(
        &self,
        ui: &egui::Ui,
        snapshot: &Snapshot,
        kind: TileKind,
        rect: Rect,
        fonts: &Fonts,
        selected: Option<NeuronId>,
        settings: &ViewSettings,
    ) {
        let painter = ui.painter();
        match self.picture(snapshot, kind, &self.scales) {
            Some(Picture::Texture(texture)) => {
                let uv = Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0));
                painter.image(texture.id(), rect, uv, Color32::WHITE);
            }
            Some(Picture::Curve(values, scale)) => paint_curve(painter, rect, values, scale),
            None => paint_identity(painter, rect),
        }
        let state = match kind {
            TileKind::Hidden((layer, neuron)) => snapshot.neuron(layer, neuron).map(|n| n.state),
            _ => None,
        };
        if state.is_some() && snapshot.grid.is_plane {
            self.footprint.paint(painter, rect, snapshot.grid.extent, FOOTPRINT_COLOR);
        }
        let frame_color = state.map_or_else(|| ui.visuals().text_color(), |s| state_color(s, settings));
        painter.rect_stroke(rect, 2.0, Stroke::new(fonts.frame, frame_color), StrokeKind::Outside);
        if let Some(state) = state {
            paint_state(painter, rect, state, fonts, settings);
        }
        if let (TileKind::Hidden(id), Some(chosen)) = (kind, selected)
            && id == chosen
        {
            let ring = Stroke::new(2.0, ui.visuals().strong_text_color());
            painter.rect_stroke(rect.expand(fonts.frame + 3.0), 4.0, ring, StrokeKind::Outside);
        }
        if let Some(bias) = tile_bias(snapshot, kind) {
            paint_bias(painter, rect, bias, fonts);
        }
    }
}

/// Column titles ("Layer 1", or "L1" where that does not fit), and under each hidden layer's
/// title its neurons that are not alive ("2 dead").
pub(super) fn paint_headers(
    ui: &egui::Ui,
    painter: &egui::Painter,
    snapshot: &Snapshot,
    layout: &Layout,
    fonts: &Fonts,
    settings: &ViewSettings,
) {
    let top = layout.body.top() - fonts.header.size - fonts.label.size - 10.0;
    let last = layout.column_x.len().saturating_sub(1);
    let width = layout.column_x.get(1).zip(layout.column_x.first()).map_or(f32::INFINITY, |(b, a)| b - a) - 4.0;
    let strong = ui.visuals().strong_text_color();
    for (column, &x) in layout.column_x.iter().enumerate() {
        let (long, short) = match column {
            0 => ("Input".to_owned(), "In".to_owned()),
            c if c == last => ("Output".to_owned(), "Out".to_owned()),
            c => (format!("Layer {c}"), format!("L{c}")),
        };
        let mut galley = painter.layout_no_wrap(long, fonts.header.clone(), strong);
        if galley.size().x > width {
            galley = painter.layout_no_wrap(short, fonts.header.clone(), strong);
        }
        painter.galley(pos2(x - galley.size().x / 2.0, top), galley, strong);
        if let Some(layer) = column.checked_sub(1).and_then(|i| snapshot.layers.get(i)) {
            let (text, compact, color) = count_summary(ui, layer, settings);
            // The whole summary, else its worst part, else that part as a count and a mark; a
            // layer shown through a window says first how many neurons it has in all.
            let total = if layout.is_windowed(column) { format!("{} · ", layer.neurons.len()) } else { String::new() };
            let candidates = [
                format!("{total}{}", text.join(" ")),
                format!("{total}{}", text.first().cloned().unwrap_or_default()),
                compact,
            ];
            let mut galleys =
                candidates.into_iter().map(|text| painter.layout_no_wrap(text, fonts.label.clone(), color));
            let mut galley = galleys.next().expect("three candidates");
            for shorter in galleys {
                if galley.size().x <= width {
                    break;
                }
                galley = shorter;
            }
            painter.galley(pos2(x - galley.size().x / 2.0, top + fonts.header.size + 4.0), galley, color);
        }
    }
}

/// The counts of a layer's neurons that are not alive, worst first ("2 dead", "1 dying"), or
/// "all alive"; the worst as a count and its mark for a narrow column ("2✖", "ok"); coloured
/// by the worst state present.
pub(super) fn count_summary(
    ui: &egui::Ui,
    layer: &LayerSnapshot,
    settings: &ViewSettings,
) -> (Vec<String>, String, Color32) {
    let worst_first =
        [NeuronState::NotFinite, NeuronState::Dead, NeuronState::BelowZero, NeuronState::Dying, NeuronState::Saturated];
    let count = |state: NeuronState| layer.state_counts[state.index()];
    let present: Vec<NeuronState> = worst_first.into_iter().filter(|&state| count(state) > 0).collect();
    let Some(&worst) = present.first() else {
        return (vec!["all alive".to_owned()], "ok".to_owned(), ui.visuals().weak_text_color());
    };
    let parts = present.iter().map(|&state| format!("{} {}", count(state), state.label())).collect();
    (parts, format!("{}{}", count(worst), state_mark(worst)), state_color(worst, settings))
}

/// The edges between tiles on screen: one per weight, blue for positive and orange for
/// negative, as thick and opaque as the weight is large relative to the largest shown into its
/// layer. With `only`, just that neuron's incoming and outgoing edges, fully opaque.
pub(super) fn paint_edges(
    painter: &egui::Painter,
    snapshot: &Snapshot,
    layout: &Layout,
    settings: &ViewSettings,
    only: Option<NeuronId>,
) {
    let columns = layout.counts.len();
    let thickness = if settings.presentation { 5.0 } else { 3.5 };
    for target_column in 1..columns {
        let weights = column_weights(snapshot, layout, target_column);
        let has_source = |source: usize| layout.has_tile(target_column - 1, source);
        let largest = weights
            .iter()
            .flat_map(|(_, w)| w.iter().enumerate().filter(|&(source, _)| has_source(source)).map(|(_, w)| w))
            .filter(|w| w.is_finite())
            .fold(0.0_f32, |m, w| m.max(w.abs()));
        if largest <= 0.0 {
            continue;
        }
        for &(target, incoming) in &weights {
            for (source, &weight) in incoming.iter().enumerate() {
                if !has_source(source) || !is_shown(only, target_column, source, target) {
                    continue;
                }
                let strength = (weight.abs() / largest).clamp(0.0, 1.0);
                let alpha = if only.is_some() { 0.95 } else { 0.12 + 0.5 * strength };
                let color = if weight >= 0.0 { CLASS_ONE_COLOR } else { CLASS_ZERO_COLOR };
                let from = layout.tile_rect(target_column - 1, source).right_center();
                let to = layout.tile_rect(target_column, target).left_center();
                let stroke = Stroke::new(0.4 + thickness * strength, color.gamma_multiply(alpha));
                painter.line_segment([from + vec2(4.0, 0.0), to - vec2(9.0, 0.0)], stroke);
            }
        }
    }
}

/// Whether the edge from `source` to `target` (into `target_column`) belongs to neuron `only`.
pub(super) fn is_shown(only: Option<NeuronId>, target_column: usize, source: usize, target: usize) -> bool {
    match only {
        None => true,
        Some((layer, neuron)) => {
            (target_column == layer + 1 && target == neuron) || (target_column == layer + 2 && source == neuron)
        }
    }
}

/// The incoming weights of every tile on screen of `column` (a hidden layer or the output),
/// with its neuron.
pub(super) fn column_weights<'a>(snapshot: &'a Snapshot, layout: &Layout, column: usize) -> Vec<(usize, &'a [f32])> {
    match snapshot.layers.get(column - 1) {
        Some(layer) => layer
            .neurons
            .iter()
            .enumerate()
            .filter(|&(neuron, _)| layout.has_tile(column, neuron))
            .map(|(neuron, n)| (neuron, n.incoming_weights()))
            .collect(),
        None => vec![(0, snapshot.output_weights.as_slice())],
    }
}

/// The state's mark in a badge at the tile's top-right corner, and its word under the tile (or,
/// when the rows are tight, on a band across the tile's foot).
pub(super) fn paint_state(
    painter: &egui::Painter,
    rect: Rect,
    state: NeuronState,
    fonts: &Fonts,
    settings: &ViewSettings,
) {
    if state == NeuronState::Alive {
        return;
    }
    let color = state_color(state, settings);
    let badge_font = FontId::proportional((rect.width() * 0.3).clamp(9.0, fonts.header.size * 1.2));
    let galley = painter.layout_no_wrap(state_mark(state).to_owned(), badge_font, Color32::WHITE);
    let badge =
        Rect::from_min_size(rect.right_top() - vec2(galley.size().x + 6.0, 0.0), galley.size() + vec2(6.0, 2.0));
    painter.rect_filled(badge, 2.0, color);
    painter.galley(badge.min + vec2(3.0, 1.0), galley, Color32::WHITE);
    if rect.width() < MIN_LABELLED_TILE {
        return;
    }
    let gap = fonts.gap_below;
    let is_under = gap >= fonts.label.size + 2.0;
    let size = if is_under { fonts.label.size } else { fonts.label.size.min(rect.height() * 0.4) };
    // No wider than the tile: the word shrinks to fit, and is left out where it would be
    // too small to read (the frame and the mark still say the state).
    let Some(size) = fitting_size(painter, state.label(), size, rect.width() + 2.0 * fonts.frame) else { return };
    if is_under {
        let pos = rect.center_bottom() + vec2(0.0, fonts.frame + 1.0);
        painter.text(pos, Align2::CENTER_TOP, state.label(), FontId::proportional(size), color);
    } else {
        let galley = painter.layout_no_wrap(state.label().to_owned(), FontId::proportional(size), Color32::WHITE);
        let band = Rect::from_min_max(pos2(rect.left(), rect.bottom() - galley.size().y), rect.right_bottom());
        painter.rect_filled(band, 0.0, color);
        painter.galley(pos2(rect.center().x - galley.size().x / 2.0, band.top()), galley, Color32::WHITE);
    }
}

/// The smallest text a tile's word may shrink to, in points.
const MIN_WORD_SIZE: f32 = 9.0;

/// The font size at most `size` at which `text` is at most `width` wide, if one of at least
/// [`MIN_WORD_SIZE`] is.
fn fitting_size(painter: &egui::Painter, text: &str, size: f32, width: f32) -> Option<f32> {
    let natural = painter.layout_no_wrap(text.to_owned(), FontId::proportional(size), Color32::WHITE).size().x;
    let fitting = if natural <= width { size } else { (size * width / natural).floor() };
    (fitting >= MIN_WORD_SIZE).then_some(fitting)
}

/// The bias as a bar left of the tile: up and blue when positive, down and orange when
/// negative, its length `|b| / (|b| + 1)` of half the tile (so 1 fills half the way).
pub(super) fn paint_bias(painter: &egui::Painter, rect: Rect, bias: f32, fonts: &Fonts) {
    if !bias.is_finite() {
        return;
    }
    let length = rect.height() / 2.0 * bias.abs() / (bias.abs() + 1.0);
    let x = rect.left() - fonts.frame - 5.0;
    let mid = rect.center().y;
    let (top, bottom, color) =
        if bias >= 0.0 { (mid - length, mid, CLASS_ONE_COLOR) } else { (mid, mid + length, CLASS_ZERO_COLOR) };
    let bar = Rect::from_min_max(pos2(x - 2.5, top), pos2(x + 2.5, bottom.max(top + 1.0)));
    painter.rect_filled(bar, 0.0, color);
    painter.hline(x - 4.0..=x + 4.0, mid, Stroke::new(1.0, Color32::from_gray(128)));
}

/// A 1-D response: the curve over a light background with the zero line.
pub(super) fn paint_curve(painter: &egui::Painter, rect: Rect, values: &[f32], scale: f32) {
    painter.rect_filled(rect, 0.0, Color32::from_gray(245));
    painter.hline(rect.x_range(), rect.center().y, Stroke::new(1.0, Color32::from_gray(170)));
    let count = values.len().max(2) as f32 - 1.0;
    let half = rect.height() * 0.45;
    let points: Vec<Pos2> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| {
            pos2(rect.left() + rect.width() * i as f32 / count, rect.center().y - half * (v / scale).clamp(-1.0, 1.0))
        })
        .collect();
    painter.line(points, Stroke::new(2.0, CLASS_ONE_COLOR));
}

/// The 1-D input tile: the line y = x.
pub(super) fn paint_identity(painter: &egui::Painter, rect: Rect) {
    let values: Vec<f32> = (0..=20).map(|i| i as f32 / 10.0 - 1.0).collect();
    paint_curve(painter, rect, &values, 1.0);
}

/// One entry of the legend.
pub(super) struct LegendItem {
    pub(super) text: std::sync::Arc<egui::Galley>,
    pub(super) swatch: Swatch,
}

/// How a legend entry's swatch looks.
pub(super) enum Swatch {
    /// A frame in a state's colour.
    Frame(Color32),
    /// A filled bar (weight and value colours).
    Fill(Color32),
    /// No swatch (a note).
    Note,
}

impl Swatch {
    /// The room an entry takes beyond its text: its swatch and the gap to the next entry.
    fn advance(&self) -> f32 {
        match self {
            Self::Frame(_) | Self::Fill(_) => 34.0,
            Self::Note => 8.0,
        }
    }
}

/// The legend's entries, laid out in rows that fit `width`: what a frame's colour, mark and
/// word mean, and what blue and orange mean.
pub(super) fn legend_rows(
    ui: &egui::Ui,
    snapshot: &Snapshot,
    width: f32,
    fonts: &Fonts,
    settings: &ViewSettings,
) -> Vec<Vec<LegendItem>> {
    let painter = ui.painter();
    let text_color = ui.visuals().text_color();
    let mut items: Vec<LegendItem> = possible_states(snapshot.activation)
        .iter()
        .map(|&state| {
            let mark = state_mark(state);
            let text = if mark == state.label() {
                mark.to_owned()
            } else {
                format!("{mark} {}", state.label()).trim().to_owned()
            };
            let galley = painter.layout_no_wrap(text, fonts.label.clone(), text_color);
            LegendItem { text: galley, swatch: Swatch::Frame(state_color(state, settings)) }
        })
        .collect();
    for (text, color) in [("positive", CLASS_ONE_COLOR), ("negative", CLASS_ZERO_COLOR)] {
        let galley = painter.layout_no_wrap(text.to_owned(), fonts.label.clone(), text_color);
        items.push(LegendItem { text: galley, swatch: Swatch::Fill(color) });
    }
    // One item per part of the key, so a narrow view wraps it instead of cutting it off.
    let notes: &[&str] = if snapshot.grid.is_plane {
        &["tile: activation ·", "dashed: training data ·", "edge: weight ·", "bar: bias"]
    } else {
        &["tile: activation ·", "edge: weight ·", "bar: bias"]
    };
    for note in notes {
        let galley = painter.layout_no_wrap((*note).to_owned(), fonts.label.clone(), ui.visuals().weak_text_color());
        items.push(LegendItem { text: galley, swatch: Swatch::Note });
    }
    let mut rows: Vec<Vec<LegendItem>> = vec![Vec::new()];
    let mut used = 0.0;
    for item in items {
        let item_width = item.text.size().x + item.swatch.advance();
        if used + item_width > width && rows.last().is_some_and(|row| !row.is_empty()) {
            rows.push(Vec::new());
            used = 0.0;
        }
        used += item_width;
        if let Some(row) = rows.last_mut() {
            row.push(item);
        }
    }
    rows
}

/// Paints the legend rows at the foot of `rect`.
pub(super) fn paint_legend(painter: &egui::Painter, rect: Rect, rows: Vec<Vec<LegendItem>>, fonts: &Fonts) {
    let row_height = fonts.label.size + 6.0;
    let mut y = rect.bottom() - rows.len() as f32 * row_height + row_height / 2.0 - 2.0;
    for row in rows {
        let mut x = rect.left() + 6.0;
        for item in row {
            let swatch = Rect::from_center_size(pos2(x + 7.0, y), vec2(13.0, 11.0));
            match item.swatch {
                Swatch::Frame(color) => {
                    painter.rect_stroke(swatch, 2.0, Stroke::new(fonts.frame, color), StrokeKind::Inside);
                }
                Swatch::Fill(color) => {
                    painter.rect_filled(swatch.shrink2(vec2(0.0, 2.0)), 1.0, color);
                }
                Swatch::Note => {}
            }
            let size = item.text.size();
            let text_left = if matches!(item.swatch, Swatch::Note) { x } else { x + 18.0 };
            painter.galley(pos2(text_left, y - size.y / 2.0), item.text, Color32::PLACEHOLDER);
            x += size.x + item.swatch.advance();
        }
        y += row_height;
    }
}
