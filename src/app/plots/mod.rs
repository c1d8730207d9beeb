//! The detail plots, one per file. Each takes the run's [`History`] or latest [`Snapshot`] and
//! the viewer's settings, draws one titled plot with labelled axes, and returns an [`Intent`]
//! where clicking it means something.
//!
//! [`Snapshot`]: crate::train::Snapshot
//! [`Intent`]: super::shared::Intent

pub mod activation_curve;
pub mod activation_matrix;
pub mod annotations;
pub mod compare_plot;
pub mod gradient_plot;
pub mod loss_plot;
pub mod neuron_time_chart;
pub mod states_plot;
pub mod step_axis;

use std::hash::{Hash, Hasher as _};

use egui::{Align2, Color32, FontId, RichText, TextureHandle, TextureOptions};
use egui_plot::{GridInput, GridMark, LineStyle, MarkerShape, Plot, PlotTransform, PlotUi, VLine};

use super::shared::{Intent, NeuronId, ViewSettings};
use crate::train::lessons::KeyPlot;
use crate::train::{History, HistoryPoint, Snapshot};

/// The smallest height a plot gets, in points.
const MIN_PLOT_HEIGHT: f32 = 90.0;
/// The tallest a plot grows when given unlimited room (in a scroll area).
const MAX_PLOT_HEIGHT: f32 = 420.0;
/// The floor under values shown on a log scale (a zero gradient is drawn here).
pub const LOG_FLOOR: f64 = 1e-10;

/// Draws `plot` into `ui`: the loss and the other plots of the run's history, or the ones of
/// its newest snapshot (a note while there is none). Returns what a click on it asked for.
pub fn key_plot_ui(
    ui: &mut egui::Ui,
    plot: KeyPlot,
    history: &History,
    snapshot: Option<&Snapshot>,
    selection: Option<NeuronId>,
    settings: &ViewSettings,
) -> Vec<Intent> {
    let mut intents = Vec::new();
    match (plot, snapshot) {
        (KeyPlot::Loss, _) => loss_plot::ui(ui, history, settings),
        (KeyPlot::ActivationCurve, Some(snapshot)) => activation_curve::ui(ui, snapshot, selection, settings),
        (KeyPlot::States, _) => states_plot::ui(ui, history, settings),
        (KeyPlot::NeuronTime, _) => intents.extend(neuron_time_chart::ui(ui, history, snapshot, selection, settings)),
        (KeyPlot::GradientNorms, _) => gradient_plot::ui(ui, history, settings),
        (KeyPlot::ActivationMatrix, Some(snapshot)) => {
            intents.extend(activation_matrix::ui(ui, snapshot, selection, settings));
        }
        (KeyPlot::ActivationCurve | KeyPlot::ActivationMatrix, None) => {
            ui.label("Waiting for the trainer…");
        }
    }
    intents
}

/// A plot's title, in the style every plot shares.
pub fn title_ui(ui: &mut egui::Ui, title: &str) {
    ui.label(RichText::new(title).strong());
}

/// A legend as wrapped text under a plot's title, so it never covers the data: each entry is a
/// coloured symbol (such as "—" for a line, "●" for a dot) and its label.
pub fn legend_ui(ui: &mut egui::Ui, entries: &[(&str, String, Color32)]) {
    let font =
        FontId::proportional(ui.style().text_styles.get(&egui::TextStyle::Small).map_or(11.0, |f| f.size).max(11.0));
    let text_color = ui.visuals().text_color();
    let mut job = egui::text::LayoutJob::default();
    for (index, (symbol, label, color)) in entries.iter().enumerate() {
        let gap = if index == 0 { "" } else { "   " };
        job.append(gap, 0.0, egui::TextFormat::simple(font.clone(), text_color));
        if !symbol.is_empty() {
            job.append(&format!("{symbol}\u{a0}"), 0.0, egui::TextFormat::simple(font.clone(), *color));
        }
        job.append(&label.replace(' ', "\u{a0}"), 0.0, egui::TextFormat::simple(font.clone(), text_color));
    }
    ui.label(job);
}

/// The height a plot can take in `ui`, leaving `reserve` points for what comes below.
pub fn plot_height(ui: &egui::Ui, reserve: f32) -> f32 {
    (ui.available_height() - reserve).clamp(MIN_PLOT_HEIGHT, MAX_PLOT_HEIGHT)
}

/// A plot that follows its data: no drag, zoom or scroll, so live data never leaves the view.
pub fn fixed_plot<'a>(id: &str, x_label: &str, y_label: &str, height: f32) -> Plot<'a> {
    Plot::new(id)
        .height(height)
        .x_axis_label(x_label.to_owned())
        .y_axis_label(y_label.to_owned())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(false)
        .auto_bounds(true)
}

/// A plot over training steps, with a labelled step axis sized for `ui`'s text.
pub fn time_plot<'a>(ui: &egui::Ui, id: &str, y_label: &str, height: f32) -> Plot<'a> {
    step_axis::with_step_axis(fixed_plot(id, "step", y_label, height), ui)
}

/// `(step, value)` for every point where `value` gives a finite number.
pub fn series(history: &History, value: impl Fn(&HistoryPoint) -> Option<f64>) -> Vec<[f64; 2]> {
    history
        .points
        .iter()
        .filter_map(|point| value(point).filter(|v| v.is_finite()).map(|v| [point.step as f64, v]))
        .collect()
}

/// A series as a plot draws it: the runs of finite values as separate lines, and a "diverged"
/// mark where a value stopped being a number (NaN or infinite), so a divergence shows as a break
/// with a mark, never as a value (`NaN.max(floor)` is the floor: a diverged loss would be drawn
/// as a perfect 1e-10).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrokenSeries {
    /// The runs of consecutive finite points, `(step, value)`.
    pub parts: Vec<Vec<[f64; 2]>>,
    /// Where a value stopped being finite: the step, at the last finite value before it (or
    /// `None` when there was none).
    pub breaks: Vec<(f64, Option<f64>)>,
}

impl BrokenSeries {
    /// Every finite point, in order.
    pub fn points(&self) -> impl Iterator<Item = &[f64; 2]> {
        self.parts.iter().flatten()
    }

    /// Draws the parts as lines made by `line` from each part's points, and a cross with the
    /// word "diverged" at every break.
    pub fn draw(&self, plot_ui: &mut PlotUi<'_>, mut line: impl FnMut(Vec<[f64; 2]>) -> egui_plot::Line<'static>) {
        for part in &self.parts {
            plot_ui.line(line(part.clone()));
        }
        let marks: Vec<[f64; 2]> = self.breaks.iter().filter_map(|&(step, value)| Some([step, value?])).collect();
        if marks.is_empty() {
            return;
        }
        let color = annotations::DIVERGENCE_COLOR;
        for &[step, value] in &marks {
            let text = RichText::new("diverged").color(color).strong();
            plot_ui.text(egui_plot::Text::new("diverged", [step, value].into(), text).anchor(Align2::RIGHT_BOTTOM));
        }
        plot_ui.points(egui_plot::Points::new("diverged", marks).shape(MarkerShape::Cross).radius(7.0).color(color));
    }
}

/// The series of `value` over the history, broken where it is not finite. A point where
/// `value` gives `None` (not measured) is left out without a break.
pub fn broken_series(history: &History, value: impl Fn(&HistoryPoint) -> Option<f64>) -> BrokenSeries {
    let mut series = BrokenSeries::default();
    let mut part = Vec::new();
    let mut last_finite = None;
    let mut is_broken = false;
    for point in &history.points {
        let Some(v) = value(point) else { continue };
        let step = point.step as f64;
        if v.is_finite() {
            part.push([step, v]);
            last_finite = Some(v);
            is_broken = false;
        } else if !is_broken {
            // One mark for a run of points that are not numbers: at its first.
            is_broken = true;
            if !part.is_empty() {
                series.parts.push(std::mem::take(&mut part));
            }
            series.breaks.push((step, last_finite));
        }
    }
    if !part.is_empty() {
        series.parts.push(part);
    }
    series
}

/// `log10(value)`, with zero and tiny values drawn at [`LOG_FLOOR`]. A value that is not a
/// number (NaN, infinite) stays one, so [`broken_series`] breaks the line there rather than
/// drawing it at the floor.
pub fn log10_floored(value: f64) -> f64 {
    if value.is_finite() { value.max(LOG_FLOOR).log10() } else { f64::NAN }
}

/// The least room between two labelled marks of a log axis, in points: egui_plot labels a
/// mark only when its `step_size` spans more than 20 points and the label's height.
const MIN_LABEL_SPACING: f64 = 30.0;

/// Grid marks for an axis that shows `log10` of the data, with at least two of them labelled
/// however little the range or the plot: of every decade (or every 2nd, 5th … over many),
/// 1-3, 1-2-5 or 1-2-3-5 within decades, and round values (0.69, 0.70, 0.71 …), the set with
/// the most marks that are far enough apart to be labelled. Each mark's
/// `step_size` is its real distance to its neighbours, which is what egui_plot decides by
/// whether to write its number: a mark said to be a tenth of a decade from the next when it is
/// not would be left unlabelled (a loss that stays within one decade had no number at all).
pub fn log_grid_marks(input: &GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    if !(low.is_finite() && high.is_finite()) || high <= low || high - low > 400.0 {
        return Vec::new();
    }
    // The plot's points per log10 unit, from egui_plot's hint (its grid spacing of 8 points).
    let points_per_unit = if input.base_step_size > 0.0 { 8.0 / input.base_step_size } else { f64::INFINITY };
    let wanted = MIN_LABEL_SPACING / points_per_unit;
    let within = |values: Vec<f64>| -> Vec<f64> { values.into_iter().filter(|v| (low..=high).contains(v)).collect() };
    let decades = |stride: f64| -> Vec<f64> {
        let first = (low / stride).floor() as i64;
        let last = (high / stride).ceil() as i64;
        within((first..=last).map(|k| k as f64 * stride).collect())
    };
    let in_decades = |multiples: &[f64]| -> Vec<f64> {
        let (first, last) = (low.floor() as i64, high.ceil() as i64);
        within((first..=last).flat_map(|d| multiples.iter().map(move |m| d as f64 + m.log10())).collect())
    };
    let stride = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0].into_iter().find(|&s| s >= wanted).unwrap_or(100.0);
    let candidates = [
        decades(stride),
        in_decades(&[1.0, 3.0]),
        in_decades(&[1.0, 2.0, 5.0]),
        in_decades(&[1.0, 2.0, 3.0, 5.0]),
        round_values(low, high, 3),
        round_values(low, high, 2),
    ];
    let least_gap = |values: &Vec<f64>| values.windows(2).map(|pair| pair[1] - pair[0]).fold(f64::INFINITY, f64::min);
    // The most marks that are far enough apart to be labelled.
    let chosen = candidates
        .iter()
        .filter(|values| values.len() >= 2 && least_gap(values) >= wanted * 0.999)
        .max_by_key(|values| values.len())
        .or_else(|| {
            // None is spaced enough: the one whose marks are furthest apart.
            candidates.iter().filter(|values| values.len() >= 2).max_by(|a, b| least_gap(a).total_cmp(&least_gap(b)))
        })
        .cloned()
        .unwrap_or_default();
    with_true_spacing(&chosen)
}

/// Marks at `values` (ascending), each with its distance to its nearest neighbour as its step.
fn with_true_spacing(values: &[f64]) -> Vec<GridMark> {
    let count = values.len();
    (0..count)
        .map(|index| {
            let before = index.checked_sub(1).map(|i| values[index] - values[i]);
            let after = values.get(index + 1).map(|next| next - values[index]);
            let step_size = match (before, after) {
                (Some(a), Some(b)) => a.min(b),
                (Some(gap), None) | (None, Some(gap)) => gap,
                (None, None) => 1.0,
            };
            GridMark { value: values[index], step_size }
        })
        .collect()
}

/// The `log10` of round values in `10^low ..= 10^high` (multiples of 1, 2 or 5 × 10^k), as
/// far apart as gives at least `count` of them (ascending; empty if none does).
fn round_values(low: f64, high: f64, count: usize) -> Vec<f64> {
    let (from, to) = (10_f64.powf(low), 10_f64.powf(high));
    let wanted = (to - from) / count as f64;
    if !(wanted.is_finite() && wanted > 0.0) {
        return Vec::new();
    }
    // A value a rounding error past a bound still counts as on it.
    let multiples = |step: f64| ((from / step - 1e-9).ceil() as i64, (to / step + 1e-9).floor() as i64);
    // Round steps from the one above the range's share down, until `count` marks fit.
    let power = 10_f64.powf(wanted.log10().floor() + 1.0);
    let step = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| multiples(step).1 - multiples(step).0 + 1 >= count as i64)
        .unwrap_or(power * 0.01);
    let (first, last) = multiples(step);
    (first..=last).map(|index| index as f64 * step).filter(|&value| value > 0.0).map(f64::log10).collect()
}

/// The label of a log-axis mark at `log10` value `exponent`: `0.01`, `5`, `1e-6`.
pub fn log_axis_label(exponent: f64) -> String {
    let value = 10_f64.powf(exponent);
    if !value.is_finite() {
        String::new()
    } else if (1e-3..1e4).contains(&value) {
        let digits = (2 - value.log10().floor() as i32).clamp(0, 5) as usize;
        let text = format!("{value:.digits$}");
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
    } else {
        format!("{value:.0e}")
    }
}

/// The colour of annotation markers.
pub fn annotation_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().weak_text_color().gamma_multiply(0.9)
}

/// A dashed vertical line at every annotation's step (and a red one at every divergence).
pub fn annotation_lines(plot_ui: &mut PlotUi<'_>, history: &History, color: Color32, settings: &ViewSettings) {
    let width = (settings.line_width() * 0.7).max(1.0);
    for annotation in &history.annotations {
        plot_ui
            .vline(VLine::new("", annotation.step as f64).color(color).width(width).style(LineStyle::dashed_dense()));
    }
    for divergence in &history.divergences {
        plot_ui.vline(VLine::new("", divergence.step as f64).color(annotations::DIVERGENCE_COLOR).width(width * 1.5));
    }
}

/// Writes `text` in the middle of an empty plot.
pub fn empty_note(ui: &egui::Ui, transform: &PlotTransform, text: &str) {
    let frame = *transform.frame();
    ui.painter_at(frame).text(
        frame.center(),
        Align2::CENTER_CENTER,
        text,
        FontId::proportional(14.0),
        ui.visuals().weak_text_color(),
    );
}

/// A colour for hidden layer `layer` in plots with one line per layer (distinct from the state
/// colours; Okabe–Ito order).
pub fn layer_color(layer: usize) -> Color32 {
    const COLORS: [Color32; 7] = [
        Color32::from_rgb(0, 114, 178),
        Color32::from_rgb(230, 159, 0),
        Color32::from_rgb(0, 158, 115),
        Color32::from_rgb(204, 121, 167),
        Color32::from_rgb(86, 180, 233),
        Color32::from_rgb(213, 94, 0),
        Color32::from_rgb(240, 228, 66),
    ];
    COLORS[layer % COLORS.len()]
}

/// A line style for hidden layer `layer`, so layers differ by more than colour.
pub fn layer_style(layer: usize) -> LineStyle {
    match layer % 3 {
        0 => LineStyle::Solid,
        1 => LineStyle::dashed_loose(),
        _ => LineStyle::dotted_dense(),
    }
}

/// A texture kept in egui's memory under `id` and rebuilt only when `key` changes, so the UI
/// uploads pixels once per new snapshot or history point rather than once per frame.
pub fn cached_texture(
    ctx: &egui::Context,
    id: egui::Id,
    key: impl Hash,
    options: TextureOptions,
    build: impl FnOnce() -> egui::ColorImage,
) -> TextureHandle {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    let key = hasher.finish();
    let cached = ctx.data(|data| data.get_temp::<(u64, TextureHandle)>(id));
    let handle = match cached {
        Some((cached_key, handle)) if cached_key == key => return handle,
        Some((_, mut handle)) => {
            handle.set(build(), options);
            handle
        }
        None => ctx.load_texture(format!("{id:?}"), build(), options),
    };
    ctx.data_mut(|data| data.insert_temp(id, (key, handle.clone())));
    handle
}

/// A key that changes whenever the snapshot's pictures change: its step and network, and the
/// bits of every bias and output value (which move when anything is applied while paused).
pub fn snapshot_fingerprint(snapshot: &crate::train::Snapshot) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (snapshot.step(), snapshot.network_generation, snapshot.grid.resolution).hash(&mut hasher);
    for layer in &snapshot.layers {
        layer.neurons.len().hash(&mut hasher);
        for neuron in &layer.neurons {
            neuron.bias.to_bits().hash(&mut hasher);
        }
    }
    for value in &snapshot.output {
        value.to_bits().hash(&mut hasher);
    }
    hasher.finish()
}

/// The sequential colour of a fraction in `[0, 1]`: dark navy for 0 (never active), through
/// grey, to bright yellow for 1 (cividis-like, readable with colour-vision deficiencies).
pub fn sequential_color(fraction: f32) -> Color32 {
    if !fraction.is_finite() {
        return Color32::from_rgb(190, 90, 200);
    }
    let t = fraction.clamp(0.0, 1.0);
    let stops = [(10.0, 18.0, 45.0), (110.0, 112.0, 115.0), (255.0, 232.0, 60.0)];
    let (a, b, u) = if t < 0.5 { (stops[0], stops[1], t * 2.0) } else { (stops[1], stops[2], t * 2.0 - 1.0) };
    let mix = |x: f32, y: f32| (x + (y - x) * u).round() as u8;
    Color32::from_rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks at round values (0.69, 0.70, 0.71 …; 1, 2 or 5 × 10^k apart, at least three) for
    /// a log axis showing less than a decade, `[low, high]` in `log10`.
    fn round_values_within_a_decade(low: f64, high: f64) -> Vec<GridMark> {
        with_true_spacing(&round_values(low, high, 3))
    }

    #[test]
    fn a_log_axis_within_a_decade_is_marked_at_round_values() {
        let labels = |from: f64, to: f64| -> Vec<String> {
            round_values_within_a_decade(from.log10(), to.log10())
                .into_iter()
                .map(|mark| log_axis_label(mark.value))
                .collect()
        };
        assert_eq!(labels(0.687, 0.731), ["0.69", "0.7", "0.71", "0.72", "0.73"]);
        assert_eq!(labels(0.2, 0.6), ["0.2", "0.4", "0.6"]);
        assert_eq!(labels(120.0, 180.0), ["120", "140", "160", "180"]);
    }

    /// The marks egui_plot writes a number at, on a log axis of `height` points showing
    /// `from..to` (its rule: a mark's step spans more than 20 points and the label's height).
    fn labelled(from: f64, to: f64, height: f64, label_height: f64) -> Vec<String> {
        let (low, high) = (from.log10(), to.log10());
        let base_step_size = (high - low) / height * 8.0;
        let marks = log_grid_marks(&GridInput { bounds: (low, high), base_step_size });
        let points_per_unit = height / (high - low);
        marks
            .into_iter()
            .filter(|mark| {
                let spacing = mark.step_size * points_per_unit;
                spacing > 20.0 && spacing >= label_height
            })
            .map(|mark| log_axis_label(mark.value))
            .collect()
    }

    #[test]
    fn a_log_axis_labels_at_least_two_numbers_however_small_the_range_or_the_plot() {
        let ranges = [(0.12, 0.4), (0.687, 0.731), (0.05, 0.4), (0.3, 2.5), (1e-6, 1.0), (0.6925, 0.6926)];
        for (from, to) in ranges {
            for height in [60.0, 90.0, 150.0, 400.0] {
                // Presentation mode's tick labels are about 26 points high.
                let labels = labelled(from, to, height, 26.0);
                assert!(labels.len() >= 2, "{from}..{to} at {height} points: {labels:?}");
            }
        }
    }
}
