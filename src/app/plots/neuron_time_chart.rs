//! Every hidden neuron's fraction active over time: one row per neuron, grouped by layer, one
//! column per stretch of steps. A neuron that dies is a row that goes dark; a revival (it left
//! the negative-everywhere state) is marked with a triangle at the step the census saw it.
//! Clicking a row selects that neuron.

use egui::{Color32, Vec2};
use egui_plot::{GridMark, HLine, Line, MarkerShape, PlotImage, PlotPoint, Points};

use super::{
    annotation_color, annotation_lines, cached_texture, empty_note, fixed_plot, plot_height, sequential_color, title_ui,
};
use crate::app::shared::{Intent, NeuronId, ViewSettings, state_color};
use crate::nn::NeuronState;
use crate::train::{History, Snapshot};

/// The most columns the chart's image has; longer histories are averaged into this many.
const MAX_COLUMNS: usize = 600;

/// Draws the chart; returns a selection when a row is clicked.
pub fn ui(
    ui: &mut egui::Ui,
    history: &History,
    snapshot: Option<&Snapshot>,
    selected: Option<NeuronId>,
    settings: &ViewSettings,
) -> Option<Intent> {
    title_ui(ui, "Fraction active per neuron over time (dark = dead, ▲ = revived)");
    let rows = history.last().map_or(0, |point| point.fraction_active.len());
    let sizes = layer_sizes(history, snapshot, rows);
    let first = history.points.first().map_or(0.0, |p| p.step as f64);
    let last = history.last().map_or(1.0, |p| p.step as f64).max(first + 1.0);
    let key = (history.points.len(), history.last().map(|p| p.step), rows, first.to_bits());
    let texture = (rows > 0).then(|| {
        cached_texture(ui, egui::Id::unique("neuron_time_chart"), key, egui::TextureOptions::NEAREST, || {
            image(history, rows)
        })
    });
    let marker_color = annotation_color(ui);
    let highlight = ui.visuals().strong_text_color();
    let label_sizes = sizes.clone();
    let plot = fixed_plot("neuron_time_chart", "step", "neuron", plot_height(ui, 0.0))
        .show_x(false)
        .show_y(false)
        .show_grid([true, false])
        .x_axis_formatter(|mark, _| super::step_label(mark.value))
        .y_grid_spacer(move |_| layer_marks(&sizes))
        .y_axis_formatter(move |mark, _| layer_label(&label_sizes, mark.value))
        .include_y(0.0)
        .include_y(-(rows.max(1) as f64));
    let response = plot.show(ui, |plot_ui| {
        if let Some(texture) = &texture {
            let center = PlotPoint::new(f64::midpoint(first, last), -(rows as f64) / 2.0);
            let size = Vec2::new((last - first) as f32, rows as f32);
            plot_ui.image(PlotImage::new("", texture.id(), center, size));
        }
        for boundary in layer_boundaries(history, snapshot, rows) {
            plot_ui.hline(
                HLine::new("", -(boundary as f64)).color(plot_ui.ctx().global_style().visuals.panel_fill).width(3.0),
            );
        }
        annotation_lines(plot_ui, history, marker_color, settings);
        let revivals = revival_points(history, snapshot, rows, first);
        if !revivals.is_empty() {
            let color = state_color(NeuronState::Alive, settings);
            let radius = if settings.presentation { 6.0 } else { 4.5 };
            plot_ui.points(
                Points::new("revived", revivals).shape(MarkerShape::Up).filled(true).radius(radius).color(color),
            );
        }
        if let Some(row) = selected.and_then(|id| row_of(history, snapshot, rows, id)) {
            for y in [-(row as f64), -(row as f64) - 1.0] {
                plot_ui.line(Line::new("", vec![[first, y], [last, y]]).color(highlight).width(2.0));
            }
        }
    });
    if rows == 0 {
        empty_note(ui, &response.transform, "One row per neuron appears once training starts");
        return None;
    }
    hover_and_click(&response, history, snapshot, rows)
}

/// Shows which neuron the pointer is over; a click selects it.
fn hover_and_click(
    response: &egui_plot::PlotResponse<()>,
    history: &History,
    snapshot: Option<&Snapshot>,
    rows: usize,
) -> Option<Intent> {
    let pointer = response.response.hover_pos()?;
    let value = response.transform.value_from_position(pointer);
    let row = (-value.y).floor();
    if !(0.0..rows as f64).contains(&row) {
        return None;
    }
    let id = neuron_of(&layer_sizes(history, snapshot, rows), row as usize)?;
    let fraction = history
        .points
        .iter()
        .rev()
        .find(|p| p.step as f64 <= value.x)
        .and_then(|p| p.fraction_active.get(row as usize))
        .copied();
    let text = match fraction {
        Some(f) => format!("Layer {} neuron {}: {:.0}% active at step {:.0}", id.0 + 1, id.1 + 1, f * 100.0, value.x),
        None => format!("Layer {} neuron {}", id.0 + 1, id.1 + 1),
    };
    let clicked = response.response.clicked();
    response.response.clone().on_hover_text(text);
    clicked.then_some(Intent::Select(Some(id)))
}

/// `(step, row middle)` of every revival the census saw since the history began.
fn revival_points(history: &History, snapshot: Option<&Snapshot>, rows: usize, first: f64) -> Vec<[f64; 2]> {
    let Some(snapshot) = snapshot else { return Vec::new() };
    snapshot
        .neuron_events
        .iter()
        .filter(|event| event.is_revival && event.step as f64 >= first)
        .filter_map(|event| {
            let row = row_of(history, Some(snapshot), rows, (event.layer, event.neuron))?;
            Some([event.step as f64, -(row as f64) - 0.5])
        })
        .collect()
}

/// The neurons per layer: from the snapshot when it matches the history's row count, else from
/// the latest point's state counts, else one block.
fn layer_sizes(history: &History, snapshot: Option<&Snapshot>, rows: usize) -> Vec<usize> {
    if let Some(snapshot) = snapshot {
        let sizes: Vec<usize> = snapshot.layers.iter().map(|layer| layer.neurons.len()).collect();
        if sizes.iter().sum::<usize>() == rows {
            return sizes;
        }
    }
    if let Some(point) = history.last() {
        let sizes: Vec<usize> = point
            .layers
            .iter()
            .map(|l| (l.alive + l.dying + l.below_zero + l.dead + l.saturated).round() as usize)
            .collect();
        if sizes.iter().sum::<usize>() == rows {
            return sizes;
        }
    }
    vec![rows]
}

/// The rows at which a new layer starts (after the first).
fn layer_boundaries(history: &History, snapshot: Option<&Snapshot>, rows: usize) -> Vec<usize> {
    let sizes = layer_sizes(history, snapshot, rows);
    sizes
        .iter()
        .scan(0, |start, size| {
            *start += size;
            Some(*start)
        })
        .filter(|&b| b < rows)
        .collect()
}

/// The row of neuron `id`.
fn row_of(history: &History, snapshot: Option<&Snapshot>, rows: usize, id: NeuronId) -> Option<usize> {
    let sizes = layer_sizes(history, snapshot, rows);
    (id.1 < *sizes.get(id.0)?).then(|| sizes[..id.0].iter().sum::<usize>() + id.1)
}

/// The neuron shown on `row`.
fn neuron_of(sizes: &[usize], row: usize) -> Option<NeuronId> {
    let mut start = 0;
    for (layer, &size) in sizes.iter().enumerate() {
        if row < start + size {
            return Some((layer, row - start));
        }
        start += size;
    }
    None
}

/// A y-axis mark in the middle of each layer's rows.
fn layer_marks(sizes: &[usize]) -> Vec<GridMark> {
    let mut start = 0;
    let widest = sizes.iter().copied().max().unwrap_or(1) as f64;
    sizes
        .iter()
        .map(|&size| {
            let mark = GridMark { value: -(start as f64 + size as f64 / 2.0), step_size: widest };
            start += size;
            mark
        })
        .collect()
}

/// "L1", "L2"... at a layer's middle mark.
fn layer_label(sizes: &[usize], value: f64) -> String {
    let row = (-value).floor().max(0.0) as usize;
    neuron_of(sizes, row).map(|(layer, _)| format!("L{}", layer + 1)).unwrap_or_default()
}

/// The chart's pixels: `[columns, rows]`, each column the mean over its stretch of points.
/// One pass over the points; points of another shape (before an architecture change) are
/// left transparent.
fn image(history: &History, rows: usize) -> egui::ColorImage {
    let points = &history.points;
    let columns = points.len().clamp(1, MAX_COLUMNS);
    let mut pixels = vec![Color32::TRANSPARENT; columns * rows];
    let mut sums = vec![0.0_f32; rows];
    for column in 0..columns {
        let start = column * points.len() / columns;
        let end = ((column + 1) * points.len() / columns).max(start + 1).min(points.len());
        let stretch = points.get(start..end).unwrap_or_default();
        if stretch.is_empty() || stretch.iter().any(|p| p.fraction_active.len() != rows) {
            continue;
        }
        sums.fill(0.0);
        for point in stretch {
            for (sum, &value) in sums.iter_mut().zip(&point.fraction_active) {
                *sum += value;
            }
        }
        let count = stretch.len() as f32;
        for (row, &sum) in sums.iter().enumerate() {
            pixels[row * columns + column] = sequential_color(sum / count);
        }
    }
    egui::ColorImage::new([columns, rows], pixels)
}
