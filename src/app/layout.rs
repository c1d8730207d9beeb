//! How the window is divided, by its size and the mode.
//!
//! - **Wide** (the desktop, a browser tab on a laptop): the top bar, the settings on the left,
//!   the lesson on the right, the plots at the bottom, the network and its output in the
//!   centre (`ReluLabApp::show`).
//! - **Presenting** on a wide window: built for the neurons. The settings panel is hidden until
//!   asked for, the plots panel gives way (the lesson's key plot sits under the output of a run;
//!   a comparison's plots come back on a tall screen), so the tiles grow with the screen, and
//!   the top bar's step counter is large.
//! - **Narrow** (below [`NARROW_WIDTH`], a phone): one column that scrolls: the top bar in a
//!   menu, then the network, its output, the plots, the settings and the lesson, each at a
//!   size it can be read at.
//!
//! Panel sizes are saved between launches; a saved size that does not fit the window any more
//! (after a narrow window, or on another screen) is forgotten at the first frame, and the
//! help's "Reset layout" forgets them all.

use egui::{Id, RichText, Ui, vec2};

use super::capture::AreaRects;
use super::compare_view::Comparison;
use super::plots;
use super::shared::{Intent, NeuronId, ViewSettings};
use super::top_bar::{PanelsShown, TopBar};
use super::{ReluLabApp, output_view};
use crate::train::lessons::{KeyPlot, Lesson};
use crate::train::{History, ModeView, Snapshot, View};

/// Below this width (in points) the app stacks its parts in one scrolling column.
pub(super) const NARROW_WIDTH: f32 = 700.0;
/// From this height on, a comparison presented keeps its plots under the networks.
const TALL_ENOUGH_FOR_COMPARE_PLOTS: f32 = 900.0;
/// The height of one plot in the narrow column.
const NARROW_PLOT_HEIGHT: f32 = 230.0;

/// Whether the window is narrow enough to stack the app in one column.
pub(super) fn is_narrow(ctx: &egui::Context) -> bool {
    ctx.content_rect().width() < NARROW_WIDTH
}

/// Whether the wide layout has its bottom plots panel: always outside presentation mode;
/// presenting, a run shows its key plot under the output instead, and a comparison keeps its
/// plots only on a tall screen (at 720 points the networks need the height).
pub(super) fn has_plots_panel(ctx: &egui::Context, settings: &ViewSettings, view: Option<&View>) -> bool {
    if !settings.presentation {
        return true;
    }
    match view.map(|view| &view.mode) {
        None | Some(ModeView::Run | ModeView::Seeds(_)) => false,
        Some(ModeView::Compare { .. }) => ctx.content_rect().height() >= TALL_ENOUGH_FOR_COMPARE_PLOTS,
    }
}

/// The bottom plots panel's height before the user resizes it.
pub(super) fn plots_panel_height(ctx: &egui::Context) -> f32 {
    (ctx.content_rect().height() * 0.34).clamp(180.0, 380.0)
}

/// The settings panel's width before the user resizes it.
pub(super) fn controls_panel_width(ctx: &egui::Context) -> f32 {
    (ctx.content_rect().width() * 0.19).clamp(230.0, 330.0)
}

/// The lessons panel's width before the user resizes it.
pub(super) fn lessons_panel_width(ctx: &egui::Context, presentation: bool) -> f32 {
    let share = if presentation { 0.25 } else { 0.22 };
    (ctx.content_rect().width() * share).clamp(260.0, 520.0)
}

/// The width of the column beside a run's network: the output (and, presenting, the key plot
/// under it).
pub(super) fn output_column_width(ui: &Ui, settings: &ViewSettings) -> f32 {
    let share = if settings.presentation { 0.38 } else { 0.36 };
    (ui.available_width() * share).clamp(220.0, ui.available_height().max(220.0) + 40.0)
}

/// Presenting a run: the output on top of the column, the lesson's key plot below it.
pub(super) fn output_and_key_plot_ui(
    ui: &mut Ui,
    snapshot: &Snapshot,
    history: &History,
    key: KeyPlot,
    selection: Option<NeuronId>,
    settings: &ViewSettings,
) -> Vec<Intent> {
    let width = ui.available_width();
    // The map is square: its side, a title, a summary, a legend and a colour bar.
    let text = ui.text_style_height(&egui::TextStyle::Body);
    // At most half the column: the key plot (the activation curve is two plots) needs the rest.
    let output_height = (width + 5.0 * text).min(ui.available_height() * 0.5);
    ui.allocate_ui(vec2(width, output_height), |ui| output_view::output_ui(ui, snapshot, settings));
    ui.separator();
    ui.push_id(("presented plot", format!("{key:?}")), |ui| {
        plots::key_plot_ui(ui, key, history, Some(snapshot), selection, settings)
    })
    .inner
}

/// "Open lesson 3? …", while a lesson asked for waits for an answer (it would end the
/// comparison or the seeds view on screen).
pub(super) fn lesson_question_ui(ui: &mut Ui, pending: Option<usize>, lessons: &[Lesson]) -> Vec<Intent> {
    let mut intents = Vec::new();
    let Some(index) = pending else { return intents };
    let title = lessons.get(index).map_or("", |lesson| lesson.title.as_str());
    egui::Frame::new().fill(ui.visuals().faint_bg_color).corner_radius(6.0).inner_margin(8.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("Open lesson {} ({title})?", index + 1)).strong());
            ui.label("The comparison or seeds view on screen ends (Keep A or Keep B first to go on with a branch).");
            if ui.button(format!("Open lesson {}", index + 1)).clicked() {
                intents.push(Intent::ConfirmLesson(Some(index)));
            }
            if ui.button("Stay").clicked() {
                intents.push(Intent::ConfirmLesson(None));
            }
        });
    });
    intents
}

/// What is left to do about the saved panel sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PanelCheck {
    /// At the first frame: forget the sizes that do not fit the window.
    FirstFrame,
    /// Forget every size ("Reset layout").
    ForgetAll,
    /// Nothing.
    Done,
}

/// Which side a panel sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Bottom,
}

/// Does what `check` says with the saved panel sizes (before any panel is shown this frame).
pub(super) fn check_panel_sizes(ui: &Ui, check: PanelCheck) -> PanelCheck {
    if check == PanelCheck::Done {
        return check;
    }
    let ctx = ui.ctx();
    let window = ctx.content_rect().size();
    for (id, side, presentation) in panel_ids(ui) {
        let Some(state) = egui::containers::panel::PanelState::load(ctx, id) else { continue };
        let (size, room, default) = match side {
            Side::Left => (state.size().x, window.x, controls_panel_width(ctx)),
            Side::Right => (state.size().x, window.x, lessons_panel_width(ctx, presentation)),
            Side::Bottom => (state.size().y, window.y, plots_panel_height(ctx)),
        };
        if check == PanelCheck::ForgetAll || !does_fit(size, room, default) {
            ctx.data_mut(|data| data.remove::<egui::containers::panel::PanelState>(id));
        }
    }
    PanelCheck::Done
}

/// Whether a saved panel size still suits a window whose side is `room`: not more than 45% of
/// it (the centre keeps the rest), and not squeezed below half its default size (a leftover of
/// a narrow window).
pub(super) fn does_fit(size: f32, room: f32, default: f32) -> bool {
    size <= room * 0.45 && size >= default * 0.5
}

/// The saved side panels: their ids (as `egui::Panel` makes them in the root `ui`), sides and
/// modes.
fn panel_ids(ui: &Ui) -> Vec<(Id, Side, bool)> {
    let mut ids = Vec::new();
    for (mode, presentation) in [("normal", false), ("presentation", true)] {
        for (name, side) in
            [("controls_panel", Side::Left), ("lessons_panel", Side::Right), ("plots_panel", Side::Bottom)]
        {
            ids.push((ui.scope_id().with((name, mode)), side, presentation));
        }
    }
    ids
}

impl ReluLabApp {
    /// The narrow layout: a compact top bar (the rest in its menu), then one scrolling column.
    pub(super) fn narrow_ui(&mut self, ui: &mut Ui, view: Option<&View>, rects: &mut AreaRects) -> Vec<Intent> {
        let mut intents = Vec::new();
        let bar = self.top_bar(view);
        let top = egui::Panel::top("narrow_top_bar").show(ui, |ui| {
            ui.add_space(2.0);
            intents.extend(bar.narrow_ui(ui));
            ui.add_space(2.0);
        });
        rects.top_bar = Some(top.response.rect);
        let snapshot = view.map(|view| view.run.as_ref());
        let is_seeds_view = view.is_some_and(|view| view.seeds().is_some());
        egui::CentralPanel::default().show(ui, |ui| {
            let viewport_height = ui.available_height();
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                intents.extend(self.notices_and_banner_ui(ui, is_seeds_view, snapshot));
                intents.extend(self.narrow_centre_ui(ui, view, viewport_height, rects));
                self.veil_a_diverged_run(ui, view, rects);
                ui.separator();
                intents.extend(self.narrow_settings_and_lesson_ui(ui, view));
            });
        });
        intents
    }

    /// The network (both branches, stacked, while compared; the seeds; the map), its output and
    /// the plots, one under the other.
    fn narrow_centre_ui(
        &mut self,
        ui: &mut Ui,
        view: Option<&View>,
        viewport_height: f32,
        rects: &mut AreaRects,
    ) -> Vec<Intent> {
        let mut intents = Vec::new();
        let Some(view) = view else {
            ui.label("Starting the trainer…");
            return intents;
        };
        let width = ui.available_width();
        let settings = self.settings.clone();
        let snapshot = view.run.as_ref();
        if self.map.is_open() {
            let area = ui.allocate_ui(vec2(width, viewport_height.max(480.0)), |ui| {
                self.map.ui(ui, &snapshot.config, "the current run's settings", &settings)
            });
            rects.network_view = Some(area.response.rect);
            return area.inner;
        }
        match &view.mode {
            ModeView::Seeds(seeds) => {
                let area = ui.allocate_ui(vec2(width, viewport_height.max(420.0)), |ui| {
                    self.seeds_panel.ui(ui, seeds, &settings)
                });
                rects.network_view = Some(area.response.rect);
                intents.extend(area.inner);
            }
            ModeView::Compare { b, fork } => {
                let comparison = Comparison { a: snapshot, b, fork, target: self.target };
                let height = network_height(width);
                let area =
                    ui.scope(|ui| self.compare_view.stacked_ui(ui, &comparison, height, self.selection, &settings));
                rects.network_view = Some(area.response.rect);
                intents.extend(area.inner);
                intents.extend(self.narrow_plots_ui(ui, view));
            }
            ModeView::Run => {
                let area = ui.allocate_ui(vec2(width, network_height(width)), |ui| {
                    self.network_view.ui(ui, snapshot, self.selection, &settings)
                });
                rects.network_view = Some(area.response.rect);
                intents.extend(area.inner);
                ui.separator();
                let text = ui.text_style_height(&egui::TextStyle::Body);
                let output = ui.allocate_ui(vec2(width, width.min(480.0) + 6.0 * text), |ui| {
                    output_view::output_ui(ui, snapshot, &settings);
                });
                rects.output_view = Some(output.response.rect);
                intents.extend(self.narrow_plots_ui(ui, view));
            }
        }
        intents
    }

    /// The plots, one per row: a run's in the order of the lesson's key plot; a comparison's
    /// quantities.
    fn narrow_plots_ui(&self, ui: &mut Ui, view: &View) -> Vec<Intent> {
        let mut intents = Vec::new();
        let width = ui.available_width();
        let settings = &self.settings;
        let history = self.link.history();
        if let (Some(b_history), Some(fork)) = (self.link.history_b(), view.fork()) {
            for quantity in plots::compare_plot::Quantity::shown(history, b_history) {
                ui.separator();
                ui.allocate_ui(vec2(width, NARROW_PLOT_HEIGHT), |ui| {
                    plots::compare_plot::ui(ui, quantity, history, b_history, fork.step, settings);
                });
            }
            return intents;
        }
        let key = self.lessons.get(settings.lesson).map_or(KeyPlot::Loss, |lesson| lesson.plot);
        for plot in super::plot_order(key) {
            ui.separator();
            ui.allocate_ui(vec2(width, NARROW_PLOT_HEIGHT), |ui| {
                ui.push_id(("plot", super::plot_id(plot)), |ui| {
                    let snapshot = Some(view.run.as_ref());
                    intents.extend(plots::key_plot_ui(ui, plot, history, snapshot, self.selection, settings));
                });
            });
        }
        intents
    }

    /// The settings (what the left panel shows on a wide window), then the open lesson.
    fn narrow_settings_and_lesson_ui(&mut self, ui: &mut Ui, view: Option<&View>) -> Vec<Intent> {
        let mut intents = Vec::new();
        let width = ui.available_width();
        ui.label(RichText::new("Settings").heading());
        ui.allocate_ui(vec2(width, 460.0), |ui| {
            let controlled = self.controlled_snapshot(view);
            intents.extend(self.controls.ui(ui, controlled, self.settings.presentation));
        });
        ui.separator();
        let panel = self.lessons_panel(view, true);
        ui.allocate_ui(vec2(width, 640.0), |ui| intents.extend(panel.ui(ui)));
        intents
    }

    /// The top bar's state, borrowed from the app.
    pub(super) fn top_bar<'a>(&'a self, view: Option<&'a View>) -> TopBar<'a> {
        TopBar {
            status: self.link.status(),
            view,
            settings: &self.settings,
            lessons: &self.lessons,
            speed: self.link.speed(),
            panels: PanelsShown {
                is_lessons_open: self.preferences.is_lessons_panel_open,
                is_controls_open: self.preferences.is_controls_open(self.settings.presentation),
            },
            can_try_again: self.link.diverged().is_some_and(|diverged| diverged.is_changed_since),
            recording: None,
            is_recording: self.capture.is_recording(),
            is_map_open: self.map.is_open(),
            trainer_place: self.link.trainer_place(),
        }
    }
}

/// The height of a network in the narrow column of `width`: nearly square, so the tiles are as
/// large as the width allows.
fn network_height(width: f32) -> f32 {
    (width * 1.05).clamp(300.0, 640.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_panel_size_fits_unless_too_wide_or_squeezed() {
        assert!(does_fit(280.0, 1280.0, 280.0));
        assert!(!does_fit(700.0, 1280.0, 280.0), "more than 45% of the window");
        assert!(!does_fit(120.0, 1280.0, 280.0), "a leftover of a narrow window");
    }
}
