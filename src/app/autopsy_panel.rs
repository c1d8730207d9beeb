//! "How did it die?": the autopsy of one dead neuron, in words and in a small plot of its
//! largest pre-activation over the steps around its death, crossing zero where it died. The
//! trainer finds it (it replays the run from the nearest checkpoint, see
//! [`crate::train::autopsy`]); this panel asks for it and shows the answer when it comes.

use egui::{RichText, Ui};
use egui_plot::{GridMark, HLine, Line, MarkerShape, Plot, Points, VLine};

use super::shared::{Intent, NeuronId, ViewSettings, state_color};
use crate::nn::NeuronState;
use crate::train::autopsy::{AutopsyError, Death, Moment, NeuronAutopsy, TracePoint};

/// Above this largest |pre-activation| the plot's y axis is logarithmic on both sides of zero,
/// so that a fall from hundreds to just below zero still shows where it crosses.
const LINEAR_LIMIT: f64 = 10.0;
/// Steps per second when the fall is played slowly.
const PLAYBACK_STEPS_PER_SECOND: f64 = 25.0;
/// The most batch indices listed.
const MAX_LISTED_POINTS: usize = 10;

/// The panel: closed, waiting for the trainer's answer, or showing it.
#[derive(Debug, Default)]
pub struct AutopsyPanel {
    shown: Option<Shown>,
    /// The fall being played slowly: the time it started (egui's clock, seconds).
    playback_started: Option<f64>,
}

#[derive(Debug)]
enum Shown {
    Waiting(NeuronId),
    Answer(NeuronId, Result<NeuronAutopsy, AutopsyError>),
}

impl AutopsyPanel {
    /// Opens the panel for `neuron`, waiting for its autopsy.
    pub fn ask(&mut self, neuron: NeuronId) {
        self.shown = Some(Shown::Waiting(neuron));
        self.playback_started = None;
    }

    /// The trainer's answer for `neuron`; ignored unless the panel waits for it.
    pub fn answer(&mut self, neuron: NeuronId, result: Result<NeuronAutopsy, AutopsyError>) {
        if matches!(self.shown, Some(Shown::Waiting(waiting)) if waiting == neuron) {
            self.shown = Some(Shown::Answer(neuron, result));
        }
    }

    /// Whether the panel is open.
    pub fn is_open(&self) -> bool {
        self.shown.is_some()
    }

    /// The neuron shown (or asked about).
    pub fn neuron(&self) -> Option<NeuronId> {
        match self.shown {
            Some(Shown::Waiting(neuron) | Shown::Answer(neuron, _)) => Some(neuron),
            None => None,
        }
    }

    /// Shows the panel as a window, when open.
    pub fn show(&mut self, ctx: &egui::Context, settings: &ViewSettings) -> Vec<Intent> {
        let Some(neuron) = self.neuron() else { return Vec::new() };
        let mut intents = Vec::new();
        let mut is_open = true;
        let width = if settings.presentation { 680.0 } else { 540.0 };
        egui::Window::new(format!("How did layer {} neuron {} die?", neuron.0 + 1, neuron.1 + 1))
            .id(egui::Id::unique("autopsy_panel"))
            .open(&mut is_open)
            .default_width(width)
            .default_pos(ctx.content_rect().center() - egui::vec2(width / 2.0, 260.0))
            .show(ctx, |ui| intents = self.ui(ui, settings));
        if !is_open {
            self.shown = None;
        }
        intents
    }

    /// The panel's contents.
    pub fn ui(&mut self, ui: &mut Ui, settings: &ViewSettings) -> Vec<Intent> {
        let mut intents = Vec::new();
        match &self.shown {
            None => {}
            Some(Shown::Waiting(_)) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Replaying the run from the nearest checkpoint…");
                });
            }
            Some(Shown::Answer(_, Err(message))) => {
                ui.label(RichText::new(format!("No autopsy: {message}")).color(ui.visuals().warn_fg_color));
            }
            Some(Shown::Answer(_, Ok(NeuronAutopsy::DeadFromStart(neuron)))) => {
                ui.label(format!(
                    "{} was negative on every training input from the start: it was born dead, no update killed it.",
                    capitalized(&neuron.label())
                ));
            }
            Some(Shown::Answer(neuron, Ok(NeuronAutopsy::Died(death)))) => {
                let (neuron, death) = (*neuron, death.clone());
                self.death_ui(ui, &death, settings);
                ui.horizontal(|ui| {
                    if ui.button("Play the fall slowly").on_hover_text(playback_hint()).clicked() {
                        self.playback_started = Some(ui.input(|input| input.time));
                    }
                    if ui.button("Select it").on_hover_text("Show it in the detail plots").clicked() {
                        intents.push(Intent::Select(Some(neuron)));
                    }
                });
            }
        }
        intents
    }

    fn death_ui(&mut self, ui: &mut Ui, death: &Death, settings: &ViewSettings) {
        ui.label(death.describe());
        if let Moment::Update { batch, .. } = &death.change.moment {
            ui.weak(format!("The batch: training points {}", point_list(batch)));
        }
        if death.census_step != death.step {
            ui.weak(format!(
                "The census saw it dead at step {}; replaying the run from the checkpoint before found the step.",
                death.census_step
            ));
        }
        let playhead = self.playhead(ui, death);
        trace_plot_ui(ui, death, playhead, settings);
        if let Some(step) = playhead {
            let value = death.trace.iter().take_while(|point| point.step <= step).last();
            let text = value.map_or(String::new(), |point| {
                format!("step {}: largest pre-activation {:.3}", point.step, point.max_pre_activation)
            });
            ui.label(RichText::new(text).monospace());
        }
    }

    /// The step the slow playback has reached, while it plays (asks for the next frame).
    fn playhead(&mut self, ui: &Ui, death: &Death) -> Option<u64> {
        let started = self.playback_started?;
        let (first, last) = (death.trace.first()?.step, death.trace.last()?.step);
        let elapsed = (ui.input(|input| input.time) - started).max(0.0);
        let step = first + (elapsed * PLAYBACK_STEPS_PER_SECOND) as u64;
        if step > last {
            self.playback_started = None;
            return None;
        }
        ui.ctx().request_repaint();
        Some(step)
    }
}

fn playback_hint() -> String {
    format!(
        "Draws its largest pre-activation step by step at {PLAYBACK_STEPS_PER_SECOND:.0} steps a second, up to the \
         death and a little after"
    )
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `17, 203, 45, … (10 in all)`, counted from 1 as a reader counts.
fn point_list(batch: &[usize]) -> String {
    let mut parts: Vec<String> = batch.iter().take(MAX_LISTED_POINTS).map(|index| (index + 1).to_string()).collect();
    if batch.len() > MAX_LISTED_POINTS {
        parts.push(format!("… ({} in all)", batch.len()));
    }
    parts.join(", ")
}

/// How the plot's y axis maps a pre-activation.
#[derive(Clone, Copy)]
enum Scale {
    Linear,
    /// `sign(z) · log10(1 + |z|)`.
    SignedLog,
}

impl Scale {
    fn of(trace: &[TracePoint]) -> Self {
        let largest = trace.iter().map(|point| f64::from(point.max_pre_activation).abs()).fold(0.0, f64::max);
        if largest > LINEAR_LIMIT { Self::SignedLog } else { Self::Linear }
    }

    fn apply(self, value: f64) -> f64 {
        match self {
            Self::Linear => value,
            Self::SignedLog => value.signum() * value.abs().ln_1p() / std::f64::consts::LN_10,
        }
    }

    fn invert(self, mark: f64) -> f64 {
        match self {
            Self::Linear => mark,
            Self::SignedLog => mark.signum() * (10_f64.powf(mark.abs()) - 1.0),
        }
    }
}

/// The largest pre-activation over the steps around the death, with zero and the death marked.
fn trace_plot_ui(ui: &mut Ui, death: &Death, playhead: Option<u64>, settings: &ViewSettings) {
    let scale = Scale::of(&death.trace);
    let points: Vec<[f64; 2]> = death
        .trace
        .iter()
        .filter(|point| playhead.is_none_or(|step| point.step <= step))
        .map(|point| [point.step as f64, scale.apply(f64::from(point.max_pre_activation))])
        .collect();
    let after = scale.apply(f64::from(death.change.max_pre_activation_after));
    let dead = state_color(NeuronState::Dead, settings);
    let line_color = ui.visuals().strong_text_color();
    let zero_color = ui.visuals().weak_text_color();
    let (first, last) = match (death.trace.first(), death.trace.last()) {
        (Some(first), Some(last)) => (first.step as f64, last.step as f64),
        _ => (death.step as f64, death.step as f64),
    };
    let y_label = match scale {
        Scale::Linear => "largest z",
        Scale::SignedLog => "largest z (log)",
    };
    let mut plot = Plot::new(("autopsy_trace", death.neuron.layer, death.neuron.neuron))
        .height(if settings.presentation { 240.0 } else { 180.0 })
        .x_axis_label("step")
        .y_axis_label(y_label)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .include_x(first)
        .include_x(last)
        .include_y(0.0);
    if let Scale::SignedLog = scale {
        plot = plot
            .y_grid_spacer(|input| signed_log_marks(input.bounds))
            .y_axis_formatter(move |mark, _| format_mark(scale.invert(mark.value)));
    }
    let width = settings.line_width();
    plot.show(ui, |plot_ui| {
        plot_ui.hline(HLine::new("zero", 0.0).color(zero_color).width(1.0));
        plot_ui.vline(VLine::new(format!("died at step {}", death.step), death.step as f64).color(dead).width(width));
        plot_ui.line(Line::new("largest pre-activation", points).color(line_color).width(width));
        if playhead.is_none_or(|step| step >= death.step) {
            plot_ui.points(
                Points::new("after the fatal update", vec![[death.step as f64, after]])
                    .shape(MarkerShape::Cross)
                    .radius(if settings.presentation { 8.0 } else { 6.0 })
                    .color(dead),
            );
        }
    })
    .response
    .widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Image,
            true,
            format!("Largest pre-activation from step {first} to {last}, below zero from step {}", death.step),
        )
    });
    let scale_words = match scale {
        Scale::Linear => "",
        Scale::SignedLog => ", on a log scale either side of zero",
    };
    ui.weak(format!(
        "Its largest pre-activation z over the training inputs after each step{scale_words}. The line crosses zero \
         at step {}, where it died; the vertical line marks it.",
        death.step
    ));
}

/// Marks at 0, ±1, ±10, ±100 … on the signed-log axis, within `bounds`.
fn signed_log_marks(bounds: (f64, f64)) -> Vec<GridMark> {
    let scale = Scale::SignedLog;
    let mut marks = vec![GridMark { value: 0.0, step_size: 1.0 }];
    // ±1 sits a third of a decade from 0: only on a short axis is there room for it.
    let first = i32::from(bounds.1 - bounds.0 > 2.5);
    for exponent in first..=9 {
        let value = 10_f64.powi(exponent);
        for signed in [value, -value] {
            let at = scale.apply(signed);
            if (bounds.0..=bounds.1).contains(&at) {
                marks.push(GridMark { value: at, step_size: 1.0 });
            }
        }
    }
    marks
}

/// A mark's value on the axis: `100`, `−10`, `0.5`.
fn format_mark(value: f64) -> String {
    crate::train::autopsy::figure((value * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_log_scale_keeps_the_sign_and_inverts() {
        let scale = Scale::SignedLog;
        for value in [-672.0, -1.0, 0.0, 0.3, 259.0] {
            assert!((scale.invert(scale.apply(value)) - value).abs() < 1e-9);
            assert_eq!(scale.apply(value).signum(), if value == 0.0 { 0.0_f64.signum() } else { value.signum() });
        }
        let marks: Vec<f64> = signed_log_marks((-1.5, 2.5)).iter().map(|m| scale.invert(m.value).round()).collect();
        assert!(marks.contains(&100.0) && marks.contains(&-10.0) && !marks.contains(&-100.0), "{marks:?}");
        assert!(!marks.contains(&1.0), "no room for 1 next to 0 on a long axis: {marks:?}");
        let short: Vec<f64> = signed_log_marks((-0.5, 0.5)).iter().map(|m| scale.invert(m.value).round()).collect();
        assert!(short.contains(&1.0) && short.contains(&-1.0), "{short:?}");
    }

    #[test]
    fn batches_list_as_a_reader_counts() {
        assert_eq!(point_list(&[0, 16]), "1, 17");
        assert_eq!(point_list(&(0..12).collect::<Vec<_>>()), "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (12 in all)");
    }
}
