//! The gradient norm of each hidden layer's weights over time, on a log scale: vanishing
//! gradients show as the input-side layers sinking decades below the others, and a dead layer
//! as a line falling to the floor.

use egui_plot::Line;

use super::annotations::{annotations_ui, marker_legend};
use super::{
    annotation_color, annotation_lines, broken_series, empty_note, layer_color, layer_style, legend_ui, log_axis_label,
    log_grid_marks, log10_floored, plot_height, time_plot, title_ui,
};
use crate::app::shared::ViewSettings;
use crate::train::History;

/// Draws the gradient-norm plot.
pub fn ui(ui: &mut egui::Ui, history: &History, settings: &ViewSettings) {
    title_ui(ui, "Gradient norm per layer (log scale)");
    let layers = history.last().map_or(0, |point| point.layers.len());
    let marker_color = annotation_color(ui);
    let mut entries: Vec<(&str, String, egui::Color32)> =
        (0..layers).map(|layer| ("—", format!("layer {}", layer + 1), layer_color(layer))).collect();
    entries.extend(marker_legend(history, marker_color));
    legend_ui(ui, &entries);
    let width = settings.line_width();
    let plot = time_plot(ui, "gradient_plot", "gradient norm", plot_height(ui, 0.0))
        .y_grid_spacer(|input| log_grid_marks(&input))
        .y_axis_formatter(|mark, _| log_axis_label(mark.value));
    let response = plot.show(ui, |plot_ui| {
        annotation_lines(plot_ui, history, marker_color, settings);
        for layer in 0..layers {
            let series = broken_series(history, |p| p.layers.get(layer).map(|l| log10_floored(l.gradient_norm)));
            series.draw(plot_ui, |points| {
                let line = Line::new(format!("Layer {}", layer + 1), points).color(layer_color(layer)).width(width);
                line.style(layer_style(layer))
            });
        }
    });
    if history.points.is_empty() {
        empty_note(ui, &response.transform, "Gradient norms appear once training starts");
    }
    if let Some(text) = annotations_ui(ui, &response, history, marker_color) {
        response.response.on_hover_text(text);
    }
}
