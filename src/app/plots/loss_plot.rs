//! Training and test loss over steps, on a log scale when the settings ask, with a numbered
//! marker at every annotation (each change the user made). The legend sits above the plot, so
//! it never covers the data or the numbers.

use egui::Color32;
use egui_plot::Line;

use super::annotations::{annotations_ui, marker_legend};
use super::{
    annotation_color, annotation_lines, broken_series, empty_note, legend_ui, log_axis_label, log_grid_marks,
    log10_floored, plot_height, time_plot, title_ui,
};
use crate::app::shared::ViewSettings;
use crate::train::History;

/// The colour of the training loss.
const TRAIN_COLOR: Color32 = Color32::from_rgb(0, 114, 178);
/// The colour of the test loss.
const TEST_COLOR: Color32 = Color32::from_rgb(230, 159, 0);

/// Draws the loss plot.
pub fn ui(ui: &mut egui::Ui, history: &History, settings: &ViewSettings) {
    title_ui(ui, if settings.log_loss { "Loss (log scale)" } else { "Loss" });
    let marker_color = annotation_color(ui);
    let mut entries = vec![("—", "train".to_owned(), TRAIN_COLOR), ("—", "test".to_owned(), TEST_COLOR)];
    entries.extend(marker_legend(history, marker_color));
    legend_ui(ui, &entries);
    let log = settings.log_loss;
    let scale = move |loss: f64| if log { log10_floored(loss) } else { loss };
    let train = broken_series(history, |p| Some(scale(p.train_loss)));
    let test = broken_series(history, |p| Some(scale(p.test_loss)));
    let mut plot = time_plot(ui, "loss_plot", "loss", plot_height(ui, 0.0));
    if log {
        plot =
            plot.y_grid_spacer(|input| log_grid_marks(&input)).y_axis_formatter(|mark, _| log_axis_label(mark.value));
    } else {
        plot = plot.include_y(0.0);
    }
    let width = settings.line_width();
    let response = plot.show(ui, |plot_ui| {
        annotation_lines(plot_ui, history, marker_color, settings);
        train.draw(plot_ui, |points| Line::new("train", points).color(TRAIN_COLOR).width(width));
        test.draw(plot_ui, |points| Line::new("test", points).color(TEST_COLOR).width(width));
    });
    if history.points.is_empty() {
        empty_note(ui, &response.transform, "The loss appears once training starts");
    }
    if let Some(text) = annotations_ui(ui, &response, history, marker_color) {
        response.response.on_hover_text(text);
    }
}
