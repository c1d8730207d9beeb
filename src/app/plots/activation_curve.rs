//! The current activation f(z) and its derivative f'(z), with the regions where the derivative
//! is exactly zero (ReLU below 0: no gradient) and where it is under 1% (ELU far below 0, GELU,
//! a saturated sigmoid) shaded apart, and beneath it on the same z axis the pre-activation
//! histogram of the selected neuron (or of the first layer), its bars coloured the same way.

use egui::Color32;
use egui_plot::{Bar, BarChart, Line, LineStyle, Span};

use super::{fixed_plot, legend_ui, title_ui};
use crate::app::shared::{NeuronId, ViewSettings, state_color};
use crate::nn::{Activation, NeuronState};
use crate::train::Snapshot;
use crate::train::snapshot::{HISTOGRAM_BINS, bin_center};

/// Samples along z for the curves.
const CURVE_SAMPLES: usize = 241;
/// The width of both plots' y axes, so their z axes line up.
const Y_AXIS_WIDTH: f32 = 44.0;
/// The colour of f(z).
const VALUE_COLOR: Color32 = Color32::from_rgb(0, 114, 178);
/// The colour of f'(z).
const DERIVATIVE_COLOR: Color32 = Color32::from_rgb(204, 121, 167);
/// Below this |f'(z)| (and above 0) the gradient is shaded as small.
const SMALL_DERIVATIVE: f64 = 0.01;

/// How much gradient passes at a pre-activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// f'(z) is exactly 0 (or not a number).
    None,
    /// 0 < |f'(z)| < 1%.
    Small,
    /// |f'(z)| ≥ 1%.
    Full,
}

/// What the histogram shows: one neuron's pre-activations or a whole layer's.
struct Subject<'a> {
    title: String,
    histogram: &'a [u32],
    range: f64,
    prelu_slope: f64,
}

/// Draws the activation curve over the histogram. Clicking does nothing; select neurons in the
/// network view.
pub fn ui(ui: &mut egui::Ui, snapshot: &Snapshot, selected: Option<NeuronId>, settings: &ViewSettings) {
    let Some(subject) = subject(snapshot, selected) else {
        title_ui(ui, "Activation");
        ui.label("No hidden layer");
        return;
    };
    let activation = snapshot.activation;
    title_ui(ui, &format!("{activation}: f(z), f'(z) and {}", subject.title));
    let mut entries = vec![("—", "f(z)".to_owned(), VALUE_COLOR), ("- -", "f'(z)".to_owned(), DERIVATIVE_COLOR)];
    let shown = flows_shown(activation, subject.range, subject.prelu_slope);
    if shown.contains(&Flow::None) {
        entries.push(("■", "no gradient".to_owned(), flow_color(Flow::None, settings)));
    }
    if shown.contains(&Flow::Small) {
        entries.push(("■", "gradient < 1%".to_owned(), flow_color(Flow::Small, settings)));
    }
    entries.push(("■", "gradient flows".to_owned(), flow_color(Flow::Full, settings)));
    legend_ui(ui, &entries);
    let total = (ui.available_height() - 8.0).max(160.0);
    curve_ui(ui, activation, &subject, total * 0.55, settings);
    histogram_ui(ui, activation, &subject, total * 0.45 - 8.0, settings);
}

/// The selected neuron, or the first layer when nothing (valid) is selected.
fn subject(snapshot: &Snapshot, selected: Option<NeuronId>) -> Option<Subject<'_>> {
    let default_slope = snapshot.activation.parameter().unwrap_or(0.0);
    if let Some((layer, neuron)) = selected
        && let Some(cell) = snapshot.neuron(layer, neuron)
    {
        let range = f64::from(snapshot.layers[layer].histogram_range);
        return Some(Subject {
            title: format!("layer {} neuron {}'s z", layer + 1, neuron + 1),
            histogram: &cell.histogram,
            range,
            prelu_slope: cell.prelu_slope.map_or(default_slope, f64::from),
        });
    }
    let first = snapshot.layers.first()?;
    Some(Subject {
        title: "layer 1's z (click a neuron for one)".to_owned(),
        histogram: &first.histogram,
        range: f64::from(first.histogram_range),
        prelu_slope: default_slope,
    })
}

/// How much gradient passes through `activation` at `z`.
fn flow(activation: Activation, z: f64, prelu_slope: f64) -> Flow {
    let derivative = activation.derivative_with_slope(z, prelu_slope).abs();
    if !derivative.is_finite() || derivative == 0.0 {
        Flow::None
    } else if derivative < SMALL_DERIVATIVE {
        Flow::Small
    } else {
        Flow::Full
    }
}

/// The colour of a flow: the dead state's for none, the below-zero state's for small.
fn flow_color(flow: Flow, settings: &ViewSettings) -> Color32 {
    match flow {
        Flow::None => state_color(NeuronState::Dead, settings),
        Flow::Small => state_color(NeuronState::BelowZero, settings),
        Flow::Full => state_color(NeuronState::Alive, settings),
    }
}

/// The z intervals on `[-range, range]` where the flow is `kind`.
fn flow_intervals(activation: Activation, range: f64, prelu_slope: f64, kind: Flow) -> Vec<(f64, f64)> {
    let mut intervals: Vec<(f64, f64)> = Vec::new();
    let step = 2.0 * range / (CURVE_SAMPLES - 1) as f64;
    let mut start = None;
    for i in 0..CURVE_SAMPLES {
        let z = -range + i as f64 * step;
        match (flow(activation, z, prelu_slope) == kind, start) {
            (true, None) => start = Some(z),
            (false, Some(s)) => {
                intervals.push((s, z - step));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        intervals.push((s, range));
    }
    intervals
}

/// The flows that occur on `[-range, range]`.
fn flows_shown(activation: Activation, range: f64, prelu_slope: f64) -> Vec<Flow> {
    [Flow::None, Flow::Small, Flow::Full]
        .into_iter()
        .filter(|&kind| !flow_intervals(activation, range, prelu_slope, kind).is_empty())
        .collect()
}

/// f(z) and f'(z) with the flat region shaded.
fn curve_ui(ui: &mut egui::Ui, activation: Activation, subject: &Subject, height: f32, settings: &ViewSettings) {
    let range = subject.range;
    let slope = subject.prelu_slope;
    let zs = (0..CURVE_SAMPLES).map(|i| -range + 2.0 * range * i as f64 / (CURVE_SAMPLES - 1) as f64);
    let values: Vec<[f64; 2]> = zs.clone().map(|z| [z, activation.value_with_slope(z, slope)]).collect();
    let derivatives: Vec<[f64; 2]> = zs.map(|z| [z, activation.derivative_with_slope(z, slope)]).collect();
    let low = values.iter().map(|p| p[1]).fold(-0.2_f64, f64::min).max(-3.0) - 0.2;
    let high = values.iter().map(|p| p[1]).fold(1.2_f64, f64::max).min(4.0) + 0.2;

    let width = settings.line_width();
    let plot = fixed_plot("activation_curve", "", "f(z), f'(z)", height).y_axis_min_width(Y_AXIS_WIDTH).show_x(false);
    plot.show(ui, |plot_ui| {
        for kind in [Flow::None, Flow::Small] {
            let shade = flow_color(kind, settings).gamma_multiply(0.18);
            for (start, end) in flow_intervals(activation, range, slope, kind) {
                plot_ui.span(Span::new("", start..=end).fill(shade));
            }
        }
        plot_ui.line(Line::new("f(z)", values).color(VALUE_COLOR).width(width * 1.3));
        plot_ui.line(
            Line::new("f'(z)", derivatives).color(DERIVATIVE_COLOR).width(width).style(LineStyle::dashed_dense()),
        );
        plot_ui.set_plot_bounds_x(-range..=range);
        plot_ui.set_plot_bounds_y(low..=high);
    });
}

/// The pre-activation histogram on the same z axis, bars coloured by whether gradient flows.
fn histogram_ui(ui: &mut egui::Ui, activation: Activation, subject: &Subject, height: f32, settings: &ViewSettings) {
    let range = subject.range;
    let bin_width = 2.0 * range / HISTOGRAM_BINS as f64;
    let (mut flowing, mut small, mut blocked) = (Vec::new(), Vec::new(), Vec::new());
    for (bin, &count) in subject.histogram.iter().enumerate() {
        let z = f64::from(bin_center(bin, range as f32));
        let bar = Bar::new(z, f64::from(count)).width(bin_width * 0.9);
        match flow(activation, z, subject.prelu_slope) {
            Flow::None => blocked.push(bar),
            Flow::Small => small.push(bar),
            Flow::Full => flowing.push(bar),
        }
    }
    let peak = subject.histogram.iter().copied().max().unwrap_or(0).max(1);
    let plot = fixed_plot("activation_histogram", "pre-activation z", "inputs", height).y_axis_min_width(Y_AXIS_WIDTH);
    plot.show(ui, |plot_ui| {
        plot_ui.bar_chart(BarChart::new("gradient flows", flowing).color(flow_color(Flow::Full, settings)));
        plot_ui.bar_chart(BarChart::new("gradient < 1%", small).color(flow_color(Flow::Small, settings)));
        plot_ui.bar_chart(BarChart::new("no gradient", blocked).color(flow_color(Flow::None, settings)));
        plot_ui.set_plot_bounds_x(-range..=range);
        plot_ui.set_plot_bounds_y(0.0..=f64::from(peak) * 1.1);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_flat_activation_is_shaded_as_no_gradient() {
        let elu = Activation::Elu { alpha: 1.0 };
        assert!(flow_intervals(elu, 20.0, 0.0, Flow::None).is_empty(), "ELU's gradient is never zero");
        assert!(!flow_intervals(elu, 20.0, 0.0, Flow::Small).is_empty(), "far below zero it is small");
        assert!(!flow_intervals(Activation::Relu, 20.0, 0.0, Flow::None).is_empty());
        assert!(flow_intervals(Activation::Relu, 20.0, 0.0, Flow::Small).is_empty());
    }
}
