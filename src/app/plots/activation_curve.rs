//! The current activation f(z) and its derivative f'(z), with the regions where the derivative
//! is exactly zero (ReLU below 0: no gradient) and where it is under 1% (ELU far below 0, GELU,
//! a saturated sigmoid) shaded apart, and beneath it on the same z axis the pre-activation
//! histogram of the selected neuron (or of the first layer), its bars coloured the same way.
//! The histogram's range is fixed, so values beyond it pile into the end bins; a marker at that
//! edge says how many ("◀ 37 below −20"). When room is short (presentation mode on a small
//! screen) the histogram keeps its bars readable and the curve shrinks, and each y-axis label
//! is shortened until it fits beside its own plot.

use egui::Color32;
use egui_plot::{Bar, BarChart, Line, LineStyle, PlotResponse, Span};

use super::{fixed_plot, legend_ui, title_ui};
use crate::app::shared::{NeuronId, ViewSettings, state_color};
use crate::nn::{Activation, NeuronState};
use crate::train::Snapshot;
use crate::train::snapshot::{HISTOGRAM_BINS, Histogram, bin_center};

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
/// The least height of the histogram's bars (its plot frame), in points.
pub const MIN_HISTOGRAM_FRAME: f32 = 60.0;
/// The least height of the curve's plot, in points: it shrinks before the histogram does.
const MIN_CURVE_HEIGHT: f32 = 40.0;
/// The space between the two plots, in points.
const PLOT_GAP: f32 = 8.0;
/// The share of the height the histogram gets when there is room.
const HISTOGRAM_SHARE: f32 = 0.45;
/// The curve's y-axis labels, longest first: the first that fits beside the plot is used.
const CURVE_LABELS: [&str; 3] = ["f(z), f'(z)", "f, f'", ""];
/// The histogram's y-axis labels, longest first.
const HISTOGRAM_LABELS: [&str; 3] = ["inputs", "n", ""];

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
    histogram: &'a Histogram,
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
    let histogram_axis = histogram_axis_height(ui);
    let least = MIN_CURVE_HEIGHT + PLOT_GAP + MIN_HISTOGRAM_FRAME + histogram_axis;
    let (curve, histogram) = split_heights((ui.available_height() - 8.0).max(least), histogram_axis);
    curve_ui(ui, activation, &subject, curve, settings);
    ui.add_space((PLOT_GAP - ui.spacing().item_spacing.y).max(0.0));
    histogram_ui(ui, activation, &subject, histogram, settings);
}

/// The heights of the curve's plot and the histogram's plot (with its z axis, `histogram_axis`
/// points tall) in `total` points: the histogram takes its share but never less than
/// [`MIN_HISTOGRAM_FRAME`] of bars; the curve takes the rest.
pub fn split_heights(total: f32, histogram_axis: f32) -> (f32, f32) {
    let histogram = (total * HISTOGRAM_SHARE).max(MIN_HISTOGRAM_FRAME + histogram_axis);
    let curve = (total - histogram - PLOT_GAP).max(MIN_CURVE_HEIGHT);
    (curve, histogram)
}

/// The height of the histogram's z axis: a row of tick labels and the axis label under it
/// (egui_plot sets both in the body font, the label with a quarter row's gap).
fn histogram_axis_height(ui: &egui::Ui) -> f32 {
    ui.text_style_height(&egui::TextStyle::Body) * 2.25 + 2.0
}

/// The first of `labels` whose width (by `width_of`) fits in `room` points; egui_plot centres
/// a y-axis label on its plot, so a longer one spills onto the plot above or below.
pub fn fitting_label<'a>(labels: &[&'a str], room: f32, width_of: impl Fn(&str) -> f32) -> &'a str {
    labels.iter().copied().find(|label| width_of(label) <= room).unwrap_or_default()
}

/// [`fitting_label`] in `ui`'s body font, for a plot frame `room` points tall.
fn fitting_y_label<'a>(ui: &egui::Ui, labels: &[&'a str], room: f32) -> &'a str {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let color = ui.visuals().text_color();
    fitting_label(labels, room - 4.0, |text| {
        ui.fonts_mut(|fonts| fonts.layout_no_wrap(text.to_owned(), font.clone(), color).size().x)
    })
}

/// The selected neuron, or the first layer when nothing (valid) is selected (or while the
/// trainer has yet to send a just-selected neuron's histogram).
fn subject(snapshot: &Snapshot, selected: Option<NeuronId>) -> Option<Subject<'_>> {
    let default_slope = snapshot.activation.parameter().unwrap_or(0.0);
    if let Some((layer, neuron)) = selected
        && let Some(cell) = snapshot.neuron(layer, neuron)
        && let Some(detail) = &cell.detail
    {
        let range = f64::from(snapshot.layers[layer].histogram_range);
        return Some(Subject {
            title: format!("layer {} neuron {}'s z", layer + 1, neuron + 1),
            histogram: &detail.histogram,
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
    // No z axis of its own: the histogram's, right below, is the same.
    let label = fitting_y_label(ui, &CURVE_LABELS, height);
    let plot = fixed_plot("activation_curve", "", label, height)
        .y_axis_min_width(Y_AXIS_WIDTH)
        .show_x(false)
        .show_axes([false, true]);
    let response = plot.show(ui, |plot_ui| {
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
    response.response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "Activation curve plot"));
}

/// The pre-activation histogram on the same z axis, bars coloured by whether gradient flows,
/// with a marker at each edge that holds values beyond the range.
fn histogram_ui(ui: &mut egui::Ui, activation: Activation, subject: &Subject, height: f32, settings: &ViewSettings) {
    let range = subject.range;
    let bin_width = 2.0 * range / HISTOGRAM_BINS as f64;
    let (mut flowing, mut small, mut blocked) = (Vec::new(), Vec::new(), Vec::new());
    for (bin, &count) in subject.histogram.counts.iter().enumerate() {
        let z = f64::from(bin_center(bin, range as f32));
        let bar = Bar::new(z, f64::from(count)).width(bin_width * 0.9);
        match flow(activation, z, subject.prelu_slope) {
            Flow::None => blocked.push(bar),
            Flow::Small => small.push(bar),
            Flow::Full => flowing.push(bar),
        }
    }
    let peak = f64::from(subject.histogram.peak().max(1));
    // Head room for the clipped-mass markers, so they cover no bar's top.
    let head_room = if subject.histogram.below + subject.histogram.above > 0 { 1.35 } else { 1.1 };
    let axis_height = histogram_axis_height(ui);
    let label = fitting_y_label(ui, &HISTOGRAM_LABELS, height - axis_height);
    let plot = fixed_plot("activation_histogram", "pre-activation z", label, height).y_axis_min_width(Y_AXIS_WIDTH);
    let response = plot.show(ui, |plot_ui| {
        plot_ui.bar_chart(BarChart::new("gradient flows", flowing).color(flow_color(Flow::Full, settings)));
        plot_ui.bar_chart(BarChart::new("gradient < 1%", small).color(flow_color(Flow::Small, settings)));
        plot_ui.bar_chart(BarChart::new("no gradient", blocked).color(flow_color(Flow::None, settings)));
        plot_ui.set_plot_bounds_x(-range..=range);
        plot_ui.set_plot_bounds_y(0.0..=peak * head_room);
    });
    response.response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, "Pre-activation histogram"));
    clipped_markers_ui(ui, &response, subject.histogram, range);
}

/// "◀ 37 below −20" at the histogram's left edge and "41 above 20 ▶" at its right, when values
/// fell outside the range (they are counted in the end bins).
fn clipped_markers_ui(ui: &egui::Ui, response: &PlotResponse<()>, histogram: &Histogram, range: f64) {
    let frame = *response.transform.frame();
    let font = egui::FontId::proportional(egui::TextStyle::Small.resolve(ui.style()).size.max(10.0));
    let painter = ui.painter_at(frame);
    let color = ui.visuals().strong_text_color();
    let background = ui.visuals().extreme_bg_color.gamma_multiply(0.85);
    let markers = [
        (histogram.below, format!("◀ {} below −{}", histogram.below, format_range(range)), egui::Align2::LEFT_TOP),
        (histogram.above, format!("{} above {} ▶", histogram.above, format_range(range)), egui::Align2::RIGHT_TOP),
    ];
    for (count, text, align) in markers {
        if count == 0 {
            continue;
        }
        let corner = if align == egui::Align2::LEFT_TOP { frame.left_top() } else { frame.right_top() };
        let anchor = corner + egui::vec2(if align == egui::Align2::LEFT_TOP { 3.0 } else { -3.0 }, 2.0);
        let galley = painter.layout_no_wrap(text.clone(), font.clone(), color);
        let rect = align.anchor_size(anchor, galley.size());
        painter.rect_filled(rect.expand(2.0), 2.0, background);
        painter.galley(rect.min, galley, color);
        let id = response.response.id.with(("clipped", align == egui::Align2::LEFT_TOP));
        let node = ui.interact(rect, id, egui::Sense::hover());
        node.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &text));
    }
}

/// A histogram range as a short number: `20`, `4.5`.
fn format_range(range: f64) -> String {
    let text = format!("{range:.1}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
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

    #[test]
    fn the_histogram_keeps_its_bars_when_room_is_short() {
        // Presentation mode at 1280 × 720 leaves about 150 points; the axis takes 52.
        let (curve, histogram) = split_heights(150.0, 52.0);
        assert!(histogram - 52.0 >= MIN_HISTOGRAM_FRAME, "bars get {} points", histogram - 52.0);
        assert!(curve >= MIN_CURVE_HEIGHT);
        // With room to spare the split is by share.
        let (curve, histogram) = split_heights(400.0, 30.0);
        assert_eq!(histogram, 180.0);
        assert_eq!(curve, 400.0 - 180.0 - PLOT_GAP);
    }

    #[test]
    fn a_y_label_is_shortened_until_it_fits() {
        let width = |text: &str| text.chars().count() as f32 * 10.0;
        assert_eq!(fitting_label(&CURVE_LABELS, 200.0, width), "f(z), f'(z)");
        assert_eq!(fitting_label(&CURVE_LABELS, 60.0, width), "f, f'");
        assert_eq!(fitting_label(&CURVE_LABELS, 20.0, width), "");
    }

    #[test]
    fn ranges_print_short() {
        assert_eq!(format_range(20.0), "20");
        assert_eq!(format_range(4.5), "4.5");
    }
}
