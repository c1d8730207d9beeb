//! One quantity of both branches of a comparison in one plot: A solid, B dashed, in the same
//! colour, with the fork as a vertical line. B's history holds A's up to the fork (unless B
//! built a new network there), so the two lines split exactly where the branches did.

use egui::Color32;
use egui_plot::{LineStyle, VLine};

use super::{
    broken_series, empty_note, legend_ui, log_axis_label, log_grid_marks, log10_floored, plot_height, time_plot,
    title_ui,
};
use crate::app::shared::{ViewSettings, state_color};
use crate::nn::NeuronState;
use crate::train::{History, HistoryPoint};

/// A quantity both branches are compared on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Training loss (log scale).
    TrainLoss,
    /// Dead hidden neurons, all layers together.
    Dead,
    /// Hidden neurons negative on every training input, all layers together (dead or not).
    AllNegative,
    /// Test accuracy.
    TestAccuracy,
}

impl Quantity {
    /// The plots a comparison shows, most telling first.
    pub const ALL: [Self; 4] = [Self::Dead, Self::TrainLoss, Self::AllNegative, Self::TestAccuracy];

    /// The quantities a comparison shows, most telling first: test accuracy only where the task
    /// has one (a regression such as lesson 8's |x| has none, and its plot would stay empty).
    pub fn shown(a: &History, b: &History) -> Vec<Self> {
        let has_accuracy = |history: &History| history.points.iter().any(|point| point.test_accuracy.is_some());
        let with_accuracy = has_accuracy(a) || has_accuracy(b);
        Self::ALL.into_iter().filter(|&quantity| quantity != Self::TestAccuracy || with_accuracy).collect()
    }

    fn title(self) -> &'static str {
        match self {
            Self::TrainLoss => "Training loss, A and B (log scale)",
            Self::Dead => "Dead neurons, A and B",
            Self::AllNegative => "Neurons negative on every input, A and B",
            Self::TestAccuracy => "Test accuracy, A and B",
        }
    }

    fn axis(self) -> &'static str {
        match self {
            Self::TrainLoss => "loss",
            Self::Dead | Self::AllNegative => "neurons",
            Self::TestAccuracy => "accuracy %",
        }
    }

    fn color(self, settings: &ViewSettings) -> Color32 {
        match self {
            Self::TrainLoss => Color32::from_rgb(0, 114, 178),
            Self::Dead => state_color(NeuronState::Dead, settings),
            Self::AllNegative => state_color(NeuronState::BelowZero, settings),
            Self::TestAccuracy => Color32::from_rgb(0, 158, 115),
        }
    }

    /// The value plotted for `point`.
    fn value(self, point: &HistoryPoint) -> Option<f64> {
        match self {
            Self::TrainLoss => Some(log10_floored(point.train_loss)),
            Self::Dead => Some(point.layers.iter().map(|layer| f64::from(layer.dead)).sum()),
            Self::AllNegative => Some(point.layers.iter().map(|layer| f64::from(layer.all_negative)).sum()),
            Self::TestAccuracy => point.test_accuracy.map(|accuracy| accuracy * 100.0),
        }
    }

    fn is_count(self) -> bool {
        matches!(self, Self::Dead | Self::AllNegative)
    }
}

/// Draws `quantity` for A (`a`) and B (`b`), forked at A's step `fork_step`.
pub fn ui(ui: &mut egui::Ui, quantity: Quantity, a: &History, b: &History, fork_step: u64, settings: &ViewSettings) {
    title_ui(ui, quantity.title());
    let color = quantity.color(settings);
    let fork_color = ui.visuals().weak_text_color();
    legend_ui(
        ui,
        &[
            ("—", "A".to_owned(), color),
            ("- -", "B".to_owned(), color),
            ("┆", format!("fork at step {fork_step}"), fork_color),
        ],
    );
    let mut plot = time_plot(ui, &format!("compare_{quantity:?}"), quantity.axis(), plot_height(ui, 0.0));
    plot = match quantity {
        Quantity::TrainLoss => {
            plot.y_grid_spacer(|input| log_grid_marks(&input)).y_axis_formatter(|mark, _| log_axis_label(mark.value))
        }
        Quantity::TestAccuracy => plot.include_y(0.0).include_y(100.0),
        _ => super::step_axis::with_count_axis(plot, ui, quantity.axis()).include_y(0.0),
    };
    let width = settings.line_width();
    let (mut a_series, mut b_series) =
        (broken_series(a, |p| quantity.value(p)), broken_series(b, |p| quantity.value(p)));
    if quantity.is_count() {
        for part in a_series.parts.iter_mut().chain(b_series.parts.iter_mut()) {
            *part = super::states_plot::stairs(part);
        }
    }
    let response = plot.show(ui, |plot_ui| {
        plot_ui.vline(VLine::new("fork", fork_step as f64).color(fork_color).style(LineStyle::dotted_loose()));
        let line = |name: &str, points: Vec<[f64; 2]>| {
            egui_plot::Line::new(name.to_owned(), points).color(color).width(width).allow_band(false)
        };
        a_series.draw(plot_ui, |points| line("A", points));
        b_series.draw(plot_ui, |points| line("B", points).style(LineStyle::dashed_loose()).width(width + 0.5));
    });
    if a.points.is_empty() {
        empty_note(ui, &response.transform, "The branches' numbers appear once they train");
    }
}
