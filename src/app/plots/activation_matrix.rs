//! One hidden layer's activations on a fixed sample of training inputs: a row per neuron, a
//! column per input (sorted by class). A dead neuron is a blank row; a healthy sparse one is
//! blank on some inputs only. Clicking a row selects that neuron.

use egui::{Color32, Vec2};
use egui_plot::{GridMark, Line, PlotImage, PlotPoint, VLine};

use super::{cached_texture, fixed_plot, plot_height, title_ui};
use crate::app::shared::{Intent, NeuronId, ViewSettings, diverging_color};
use crate::train::Snapshot;
use crate::train::snapshot::LayerSnapshot;

/// Rows above which the y axis stops naming every neuron.
const MAX_NAMED_ROWS: usize = 16;

/// Draws the heatmap of the selected neuron's layer (or the first layer); returns a selection
/// when a row is clicked.
pub fn ui(
    ui: &mut egui::Ui,
    snapshot: &Snapshot,
    selected: Option<NeuronId>,
    settings: &ViewSettings,
) -> Option<Intent> {
    let index = selected.map_or(0, |(layer, _)| layer).min(snapshot.layers.len().saturating_sub(1));
    let Some(layer) = snapshot.layers.get(index) else {
        title_ui(ui, "Activations per input");
        ui.label("No hidden layer");
        return None;
    };
    title_ui(ui, &format!("Layer {} activations on {} training inputs", index + 1, inputs(layer)));
    let rows = layer.neurons.len();
    let columns = inputs(layer);
    if rows == 0 || columns == 0 {
        ui.label("No activations yet");
        return None;
    }
    let key = (super::snapshot_fingerprint(snapshot), index);
    let texture = cached_texture(ui, egui::Id::unique("activation_matrix"), key, egui::TextureOptions::NEAREST, || {
        image(layer, rows, columns)
    });
    let boundary = class_boundary(snapshot, columns);
    let highlight = ui.visuals().strong_text_color();
    let width = settings.line_width();
    let plot = fixed_plot("activation_matrix", "training input (sorted by class)", "neuron", plot_height(ui, 0.0))
        .show_x(false)
        .show_y(false)
        .show_grid(false)
        .y_grid_spacer(move |_| row_marks(rows))
        .y_axis_formatter(|mark, _| format!("{}", (-mark.value).floor() as i64 + 1))
        .include_x(0.0)
        .include_x(columns as f64)
        .include_y(0.0)
        .include_y(-(rows as f64));
    let response = plot.show(ui, |plot_ui| {
        let center = PlotPoint::new(columns as f64 / 2.0, -(rows as f64) / 2.0);
        plot_ui.image(PlotImage::new("", texture.id(), center, Vec2::new(columns as f32, rows as f32)));
        if let Some(x) = boundary {
            plot_ui.vline(VLine::new("", x).color(highlight).width(width));
        }
        if let Some((_, neuron)) = selected.filter(|&(layer, _)| layer == index) {
            for y in [-(neuron as f64), -(neuron as f64) - 1.0] {
                plot_ui.line(Line::new("", vec![[0.0, y], [columns as f64, y]]).color(highlight).width(2.0));
            }
        }
    });
    row_interaction(&response, index, rows)
}

/// How many inputs the layer's matrix holds per neuron.
fn inputs(layer: &LayerSnapshot) -> usize {
    layer.activation_matrix.len().checked_div(layer.neurons.len()).unwrap_or(0)
}

/// Hover names the row; a click selects its neuron.
fn row_interaction(response: &egui_plot::PlotResponse<()>, layer: usize, rows: usize) -> Option<Intent> {
    let pointer = response.response.hover_pos()?;
    let row = (-response.transform.value_from_position(pointer).y).floor();
    if !(0.0..rows as f64).contains(&row) {
        return None;
    }
    let neuron = row as usize;
    let clicked = response.response.clicked();
    response.response.clone().on_hover_text(format!("Layer {} neuron {} (click to select)", layer + 1, neuron + 1));
    clicked.then_some(Intent::Select(Some((layer, neuron))))
}

/// A mark at the middle of each row, when there are few enough to name.
fn row_marks(rows: usize) -> Vec<GridMark> {
    let stride = rows.div_ceil(MAX_NAMED_ROWS).max(1);
    (0..rows).step_by(stride).map(|row| GridMark { value: -(row as f64) - 0.5, step_size: 1.0 }).collect()
}

/// Where class 0 ends in the sorted sample (classification only): the sample takes every
/// `n / count`-th training point, then sorts by target.
fn class_boundary(snapshot: &Snapshot, columns: usize) -> Option<f64> {
    if !snapshot.grid.is_plane {
        return None;
    }
    let train = &snapshot.points.train;
    let n = train.len();
    let zeros = (0..columns).filter_map(|i| train.get(i * n / columns)).filter(|p| p[2] < 0.5).count();
    (zeros > 0 && zeros < columns).then_some(zeros as f64)
}

/// The heatmap's pixels, `[columns, rows]`, normalized by the layer's largest |activation|.
fn image(layer: &LayerSnapshot, rows: usize, columns: usize) -> egui::ColorImage {
    let scale = layer.activation_matrix.iter().filter(|v| v.is_finite()).fold(0.0_f32, |m, v| m.max(v.abs()));
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let pixels: Vec<Color32> =
        layer.activation_matrix.iter().take(rows * columns).map(|&v| diverging_color(v / scale)).collect();
    if pixels.len() == rows * columns {
        egui::ColorImage::new([columns, rows], pixels)
    } else {
        egui::ColorImage::filled([columns, rows], Color32::GRAY)
    }
}
