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
use egui_plot::{GridInput, GridMark, LineStyle, Plot, PlotTransform, PlotUi, VLine};

use super::shared::ViewSettings;
use crate::train::{History, HistoryPoint};

/// The smallest height a plot gets, in points.
const MIN_PLOT_HEIGHT: f32 = 90.0;
/// The tallest a plot grows when given unlimited room (in a scroll area).
const MAX_PLOT_HEIGHT: f32 = 420.0;
/// The floor under values shown on a log scale (a zero gradient is drawn here).
pub const LOG_FLOOR: f64 = 1e-10;

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

/// `log10(value)`, with zero and tiny values drawn at [`LOG_FLOOR`].
pub fn log10_floored(value: f64) -> f64 {
    value.max(LOG_FLOOR).log10()
}

/// Grid marks for an axis that shows `log10` of the data: every decade, the 2s to 9s within
/// decades when few decades are shown, and evenly spaced marks when less than a decade is.
pub fn log_grid_marks(input: &GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    if !(low.is_finite() && high.is_finite()) || high <= low || high - low > 400.0 {
        return Vec::new();
    }
    let fine = high - low < 3.0;
    // Many decades: every 2nd, 5th or 10th, so at most about six are labelled.
    let stride = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0].into_iter().find(|&s| (high - low) / s <= 6.0).unwrap_or(100.0);
    let mut marks = Vec::new();
    let mut decade = (low / stride).floor() * stride;
    while decade <= high.ceil() {
        marks.push(GridMark { value: decade, step_size: stride });
        if fine {
            for k in [2.0_f64, 3.0, 5.0] {
                marks.push(GridMark { value: decade + k.log10(), step_size: 0.1 });
            }
        }
        decade += stride;
    }
    marks.retain(|mark| (low..=high).contains(&mark.value));
    if marks.len() < 2 {
        marks = round_values_within_a_decade(low, high);
    }
    marks
}

/// Marks at round values (0.69, 0.70, 0.71 …; 1, 2 or 5 × 10^k apart, at least three) for a
/// log axis showing less than a decade, `[low, high]` in `log10`.
fn round_values_within_a_decade(low: f64, high: f64) -> Vec<GridMark> {
    let (from, to) = (10_f64.powf(low), 10_f64.powf(high));
    let wanted = (to - from) / 3.0;
    if !(wanted.is_finite() && wanted > 0.0) {
        return Vec::new();
    }
    // A value a rounding error past a bound still counts as on it.
    let multiples = |step: f64| ((from / step - 1e-9).ceil() as i64, (to / step + 1e-9).floor() as i64);
    // Round steps from the one above a third of the range down, until three marks fit.
    let power = 10_f64.powf(wanted.log10().floor() + 1.0);
    let step = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| multiples(step).1 - multiples(step).0 >= 2)
        .unwrap_or(power * 0.01);
    let (first, last) = multiples(step);
    (first..=last)
        .map(|index| index as f64 * step)
        .filter(|&value| value > 0.0)
        .map(|value| GridMark { value: value.log10(), step_size: (to.log10() - from.log10()) / 4.0 })
        .collect()
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
}
