//! How many neurons of each hidden layer are alive, dying, below zero and dead over time: a
//! death shows as the alive line stepping down and the dead line stepping up; a rescue as the
//! below-zero line falling. Counts are drawn as stairs (each held until the next point), since
//! a count changes at a step, not gradually between two reports.

use egui_plot::Line;

use super::annotations::{annotations_ui, marker_legend};
use super::step_axis::with_count_axis;
use super::{
    annotation_color, annotation_lines, empty_note, layer_style, legend_ui, plot_height, series, time_plot, title_ui,
};
use crate::app::shared::{ViewSettings, state_color};
use crate::nn::NeuronState;
use crate::train::{History, HistoryPoint};

/// Draws the neuron-state plot.
pub fn ui(ui: &mut egui::Ui, history: &History, settings: &ViewSettings) {
    title_ui(ui, "Neurons per state, per layer");
    let layers = history.last().map_or(0, |point| point.layers.len());
    // Alive and dead always; the others once they occur.
    let occurs = |state: NeuronState| {
        history.points.iter().any(|p| (0..p.layers.len()).any(|l| count(p, l, state).is_some_and(|c| c > 0.0)))
    };
    let states: Vec<NeuronState> = NeuronState::ALL
        .into_iter()
        .filter(|&state| {
            matches!(state, NeuronState::Alive | NeuronState::Dead)
                || (state != NeuronState::NotFinite && occurs(state))
        })
        .collect();
    let mut entries: Vec<(&str, String, egui::Color32)> =
        states.iter().map(|&state| ("—", state.label().to_owned(), state_color(state, settings))).collect();
    if layers > 1 {
        // Styles repeat every three layers, so a deep net's entry names every layer it draws.
        for (first, style) in ["solid", "dashed", "dotted"].into_iter().enumerate().take(layers) {
            let numbers: Vec<String> = (first..layers).step_by(3).map(|layer| (layer + 1).to_string()).collect();
            let noun = if numbers.len() == 1 { "layer" } else { "layers" };
            entries.push(("", format!("{style}: {noun} {}", numbers.join(", ")), ui.visuals().text_color()));
        }
    }
    let marker_color = annotation_color(ui);
    entries.extend(marker_legend(history, marker_color));
    legend_ui(ui, &entries);
    let width = settings.line_width();
    let plot =
        with_count_axis(time_plot(ui, "states_plot", "neurons", plot_height(ui, 0.0)), ui, "neurons").include_y(0.0);
    let response = plot.show(ui, |plot_ui| {
        annotation_lines(plot_ui, history, marker_color, settings);
        for layer in 0..layers {
            for &state in &states {
                let points = stairs(&series(history, |p| count(p, layer, state)));
                let name = format!("Layer {} {}", layer + 1, state.label());
                // No bands: egui_plot would merge a stair's vertical edge into a band and fill
                // between bands, drawing wedges where the count is flat.
                let line = Line::new(name, points).color(state_color(state, settings)).width(width).allow_band(false);
                plot_ui.line(line.style(layer_style(layer)));
            }
        }
    });
    if history.points.is_empty() {
        empty_note(ui, &response.transform, "Neuron counts appear once training starts");
    }
    if let Some(text) = annotations_ui(ui, &response, history, marker_color) {
        response.response.on_hover_text(text);
    }
}

/// `points` as stairs: each value held until the next point's step, where it jumps. Only the
/// corners are kept (a count is usually flat for thousands of steps), plus the last point so
/// the line reaches the present.
pub fn stairs(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let Some((&first, rest)) = points.split_first() else { return Vec::new() };
    let mut steps = vec![first];
    let mut held = first;
    for &point in rest {
        if point[1] != held[1] {
            steps.push([point[0], held[1]]);
            steps.push(point);
            held = point;
        }
    }
    if let Some(&last) = points.last()
        && steps.last() != Some(&last)
    {
        steps.push([last[0], held[1]]);
    }
    steps
}

/// The count of neurons of `layer` in `state` at `point`.
fn count(point: &HistoryPoint, layer: usize, state: NeuronState) -> Option<f64> {
    let layer = point.layers.get(layer)?;
    let value = match state {
        NeuronState::Alive => layer.alive,
        NeuronState::Dying => layer.dying,
        NeuronState::BelowZero => layer.below_zero,
        NeuronState::Dead => layer.dead,
        NeuronState::Saturated => layer.saturated,
        NeuronState::NotFinite => return None,
    };
    Some(f64::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_holds_until_the_next_point_then_jumps() {
        let counts = [[0.0, 8.0], [100.0, 8.0], [200.0, 0.0], [300.0, 0.0], [400.0, 0.0]];
        assert_eq!(stairs(&counts), vec![[0.0, 8.0], [200.0, 8.0], [200.0, 0.0], [400.0, 0.0]]);
        assert_eq!(stairs(&counts[..3]), vec![[0.0, 8.0], [200.0, 8.0], [200.0, 0.0]]);
        assert_eq!(stairs(&counts[..1]), vec![[0.0, 8.0]]);
        // No segment of the line is diagonal.
        let stairs = stairs(&counts);
        assert!(stairs.windows(2).all(|w| w[0][0] == w[1][0] || w[0][1] == w[1][1]));
        assert!(super::stairs(&[]).is_empty());
    }
}
