//! Every hidden neuron's fraction active over time: one row per neuron, grouped by layer, one
//! column per stretch of steps. A neuron that dies is a row that goes dark; a revival (it left
//! the negative-everywhere state) is marked with a triangle at the step the census saw it.
//! Clicking a row selects that neuron.
//!
//! The columns are evenly spaced in steps, not in history points: once the history has merged
//! its older points they are twice as far apart as the newer ones, and a column per point would
//! draw a death at step 4669 near step 700 of the axis.

use egui::{Color32, Vec2};
use egui_plot::{GridMark, HLine, Line, MarkerShape, PlotImage, PlotPoint, Points};

use super::annotations::annotations_ui;
use super::step_axis::with_step_axis;
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
    let StepColumns { first, last, .. } = StepColumns::of(history);
    let key = (history.points.len(), history.last().map(|p| p.step), rows, first.to_bits());
    let texture = (rows > 0).then(|| {
        cached_texture(ui, egui::Id::unique("neuron_time_chart"), key, egui::TextureOptions::NEAREST, || {
            image(history, rows)
        })
    });
    let marker_color = annotation_color(ui);
    let highlight = ui.visuals().strong_text_color();
    let label_sizes = sizes.clone();
    let plot = with_step_axis(fixed_plot("neuron_time_chart", "step", "neuron", plot_height(ui, 0.0)), ui)
        .show_x(false)
        .show_y(false)
        .show_grid([true, false])
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
    let annotation_text = annotations_ui(ui, &response, history, marker_color);
    if rows == 0 {
        empty_note(ui, &response.transform, "One row per neuron appears once training starts");
        return None;
    }
    interaction(response, history, snapshot, rows, annotation_text)
}

/// The tooltip (the neuron under the pointer, and any annotation near it) and, on a click, the
/// selection of that neuron.
fn interaction(
    response: egui_plot::PlotResponse<()>,
    history: &History,
    snapshot: Option<&Snapshot>,
    rows: usize,
    annotation_text: Option<String>,
) -> Option<Intent> {
    let neuron = hovered_neuron(&response, history, snapshot, rows);
    let text: Vec<String> = neuron.as_ref().map(|(_, text)| text.clone()).into_iter().chain(annotation_text).collect();
    let clicked = response.response.clicked();
    if !text.is_empty() {
        response.response.on_hover_text(text.join("\n"));
    }
    neuron.filter(|_| clicked).map(|(id, _)| Intent::Select(Some(id)))
}

/// The neuron under the pointer, and what to say about it.
fn hovered_neuron(
    response: &egui_plot::PlotResponse<()>,
    history: &History,
    snapshot: Option<&Snapshot>,
    rows: usize,
) -> Option<(NeuronId, String)> {
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
    Some((id, text))
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

/// The image's columns: `count` equal stretches of steps from the first history point's step to
/// the last's (the span the image covers on the step axis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepColumns {
    /// The step at the image's left edge.
    pub first: f64,
    /// The step at its right edge (at least `first + 1`).
    pub last: f64,
    /// How many columns.
    pub count: usize,
}

impl StepColumns {
    /// The columns for `history`: one per point, up to [`MAX_COLUMNS`].
    pub fn of(history: &History) -> Self {
        let first = history.points.first().map_or(0.0, |p| p.step as f64);
        let last = history.last().map_or(1.0, |p| p.step as f64).max(first + 1.0);
        Self { first, last, count: history.points.len().clamp(1, MAX_COLUMNS) }
    }

    /// The steps one column spans.
    pub fn width(&self) -> f64 {
        (self.last - self.first) / self.count as f64
    }

    /// The step at column `column`'s left edge.
    pub fn start(&self, column: usize) -> f64 {
        self.first + column as f64 * self.width()
    }

    /// The column that holds `step` (the last one holds its right edge; steps outside the span
    /// go to the nearest end).
    pub fn column_of(&self, step: f64) -> usize {
        (((step - self.first) / self.width()).floor().max(0.0) as usize).min(self.count - 1)
    }
}

/// The chart's pixels: `[columns, rows]`, the columns evenly spaced in steps ([`StepColumns`]).
/// Each column is the mean of the points whose step falls in it; a column that no point falls
/// in repeats the one before (the last value holds). Points of another shape (before an
/// architecture change) are left out; a column with none left is transparent. One pass over
/// the points.
pub fn image(history: &History, rows: usize) -> egui::ColorImage {
    let columns = StepColumns::of(history);
    let mut sums = vec![0.0_f32; columns.count * rows];
    let mut counts = vec![0_u32; columns.count];
    for point in history.points.iter().filter(|p| p.fraction_active.len() == rows) {
        let column = columns.column_of(point.step as f64);
        counts[column] += 1;
        for (row, &value) in point.fraction_active.iter().enumerate() {
            sums[row * columns.count + column] += value;
        }
    }
    let mut pixels = vec![Color32::TRANSPARENT; columns.count * rows];
    for (column, &count) in counts.iter().enumerate() {
        for row in 0..rows {
            let index = row * columns.count + column;
            pixels[index] = match count {
                0 if column > 0 => pixels[index - 1],
                0 => Color32::TRANSPARENT,
                count => sequential_color(sums[index] / count as f32),
            };
        }
    }
    egui::ColorImage::new([columns.count, rows], pixels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::HistoryPoint;

    /// Pushes a point every 20 steps below `steps` into a history of the default capacity
    /// (which merges), with 3 neurons of which neuron 0 dies at `death`.
    fn history_with_death(steps: u64, death: u64) -> History {
        let mut history = History::default();
        for step in (0..steps).step_by(20) {
            let first = if step >= death { 0.0 } else { 1.0 };
            history.push(HistoryPoint {
                step,
                span: 1,
                fraction_active: vec![first, 1.0, 1.0],
                ..HistoryPoint::default()
            });
        }
        history
    }

    #[test]
    fn a_death_is_drawn_at_its_step_after_the_history_merged() {
        let death = 46_690;
        let history = history_with_death(100_000, death);
        assert!(history.points.iter().any(|p| p.span > 1), "the history merged");
        let image = image(&history, 3);
        let columns = StepColumns::of(&history);
        assert_eq!(image.size, [columns.count, 3]);
        let dark = sequential_color(0.0);
        let first_dark = (0..columns.count).find(|&c| image.pixels[c] == dark).expect("row 0 turns dark");
        let boundary = columns.start(first_dark);
        assert!(
            (boundary - death as f64).abs() <= columns.width(),
            "dark from step {boundary}, death at {death}, columns {} steps wide",
            columns.width()
        );
        assert!(image.pixels[..first_dark.saturating_sub(1)].iter().all(|&p| p == sequential_color(1.0)));
        assert!(image.pixels[first_dark..columns.count].iter().all(|&p| p == dark), "it stays dark");
        assert!(image.pixels[columns.count..].iter().all(|&p| p == sequential_color(1.0)), "rows 1 and 2 live");
    }

    #[test]
    fn empty_columns_repeat_the_one_before() {
        let mut history = History::default();
        for (step, fraction) in [(0, 1.0), (10, 1.0), (1000, 0.0)] {
            history.push(HistoryPoint { step, span: 1, fraction_active: vec![fraction], ..HistoryPoint::default() });
        }
        let image = image(&history, 1);
        // Three columns over 0..1000: the first holds steps 0 and 10, the middle none, the last 1000.
        assert_eq!(image.pixels, vec![sequential_color(1.0), sequential_color(1.0), sequential_color(0.0)]);
    }
}
