//! The app, on the desktop and in a browser tab: the trainer runs on its own thread (or, in a
//! browser, inside the frames); every frame the app drains its events (time-boxed), draws the
//! newest snapshot, and turns what the panels return into commands.
//!
//! This file holds the app and its layout. The trainer link (handle, history, snapshot) is in
//! [`trainer_link`], file actions in `file_actions`, the keyboard table in `shortcuts`, and each
//! panel in its own file.

pub mod autopsy_panel;
mod banner;
mod caption_strips;
pub mod capture;
mod compare_view;
mod controls_panel;
mod file_actions;
pub mod file_job;
pub mod file_jobs;
#[cfg(not(target_arch = "wasm32"))]
mod file_thread;
pub(crate) mod files_panel;
mod footprint;
mod frame_rate;
mod help_overlay;
mod layout;
mod lessons_panel;
pub mod map_view;
pub mod network_view;
mod number_field;
mod options;
pub mod output_view;
pub mod plots;
#[cfg(not(target_arch = "wasm32"))]
pub mod render;
pub mod saved_state;
mod seeds_view;
mod share;
pub mod shared;
mod shortcuts;
pub mod theme;
pub mod top_bar;
mod trainer_link;
pub mod web_page;

use std::sync::Arc;

use egui::RichText;
use serde::{Deserialize, Serialize};

pub use self::file_actions::network_file;
pub use self::options::AppOptions;

use self::autopsy_panel::AutopsyPanel;
use self::banner::Banner;
use self::capture::{AreaRects, Capture};
use self::compare_view::{CompareView, Comparison};
use self::controls_panel::ControlsPanel;
use self::file_jobs::FileJobs;
use self::files_panel::{FilesPanel, FilesStatus};
use self::help_overlay::HelpOverlay;
use self::lessons_panel::LessonsPanel;
use self::map_view::MapView;
use self::network_view::NetworkView;
use self::seeds_view::SeedsPanel;
use self::shared::{Intent, NeuronId, ViewSettings};
use self::theme::AppliedTheme;
use self::top_bar::RunStatus;
use self::trainer_link::{News, TrainerLink};
use crate::train::lessons::{KeyPlot, Lesson, load_lessons};
use crate::train::seeds::DEFAULT_SEEDS;
use crate::train::trainer::ScriptBeat;
use crate::train::{History, ModeView, RunConfig, Snapshot, Speed, Target, View, WorkerCommand};

/// The storage key of the [`ViewSettings`] (which include the open lesson).
pub const SETTINGS_KEY: &str = "relu-lab/view-settings";
/// The storage key of the app's own layout preferences.
pub const PREFERENCES_KEY: &str = "relu-lab/preferences";
/// The speed a run starts at: slow enough to watch a neuron die, fast enough that a lesson
/// plays out in about fifteen seconds.
pub const DEFAULT_SPEED: Speed = Speed::StepsPerSecond(200.0);
/// On a first launch the window grows to this share of the monitor.
const FIRST_WINDOW_SHARE: f32 = 0.9;

/// The app's layout preferences, persisted beside the [`ViewSettings`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// Whether the lessons panel is shown.
    pub is_lessons_panel_open: bool,
    /// Whether the settings panel is shown outside presentation mode.
    pub is_controls_panel_open: bool,
    /// Whether the settings panel is shown in presentation mode (hidden at first: the
    /// networks get the room; the teacher opens it to change a setting).
    pub is_controls_panel_open_presenting: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { is_lessons_panel_open: true, is_controls_panel_open: true, is_controls_panel_open_presenting: false }
    }
}

impl Preferences {
    /// Whether the settings panel is shown in this mode.
    pub fn is_controls_open(&self, presentation: bool) -> bool {
        if presentation { self.is_controls_panel_open_presenting } else { self.is_controls_panel_open }
    }
}

/// Files asked of the trainer, saved when they arrive.
#[derive(Default)]
struct Wanted {
    /// A run record.
    record: bool,
    /// The network, to export.
    network: bool,
}

/// The app. Owns the trainer link and everything the UI keeps between frames.
pub struct ReluLabApp {
    /// The trainer, its history and its newest snapshot.
    link: TrainerLink,
    /// The viewer's settings (persisted).
    settings: ViewSettings,
    /// Layout preferences (persisted).
    preferences: Preferences,
    /// The neuron picked for the detail plots.
    selection: Option<NeuronId>,
    /// A message for the user, such as a refused command.
    notice: Option<String>,
    /// Every lesson.
    lessons: Vec<Lesson>,
    /// The controls' draft values.
    controls: ControlsPanel,
    /// The network view's textures.
    network_view: NetworkView,
    /// Both branches' views while comparing.
    compare_view: CompareView,
    /// The seeds view's textures.
    seeds_panel: SeedsPanel,
    /// Where the controls send a change while comparing.
    target: Target,
    /// Whether the keyboard help is shown.
    is_help_open: bool,
    /// Frames drawn recently (shown in the help overlay).
    frame_rate: frame_rate::FrameRate,
    /// The look last applied to the context.
    applied_theme: Option<AppliedTheme>,
    /// Whether the window was last asked to be full screen (presentation mode is); `None`
    /// before the first frame.
    applied_fullscreen: Option<bool>,
    /// The Files window.
    files: FilesPanel,
    /// The thread that reads and writes files, unless it could not start.
    file_jobs: Option<FileJobs>,
    /// Screenshots and recordings.
    capture: Capture,
    /// Where the capturable areas were in the last frame.
    area_rects: AreaRects,
    /// The file the run was loaded from, if it was (then the caption names it, not a lesson).
    loaded_from: Option<String>,
    /// What was asked of the trainer, to be saved when it arrives.
    wanted: Wanted,
    /// The window still has to be sized for the monitor (a first launch, nothing saved).
    is_window_size_due: bool,
    /// The browser tab the app runs in, if it does.
    page: Option<std::rc::Rc<dyn web_page::WebPage>>,
    /// The last beat the open lesson's script reached (its caption shows on the lesson card).
    lesson_beat: Option<usize>,
    /// "How did it die?": the autopsy of a neuron, when open.
    autopsy: AutopsyPanel,
    /// The map of where networks die (its sweep runs on its own thread), when open.
    map: MapView,
    /// A lesson asked for while a comparison or the seeds view is open: it would end them, so
    /// the app asks first.
    pending_lesson: Option<usize>,
    /// Saved panel sizes still to be checked against the window (at the first frame), or
    /// forgotten ("Reset layout").
    panel_check: layout::PanelCheck,
}

/// Reads `key` from `storage`; a value that is there but does not parse gives the default
/// and a notice.
fn load_or_default<T: serde::de::DeserializeOwned + Default>(
    storage: Option<&dyn eframe::Storage>,
    key: &str,
    notices: &mut Vec<String>,
) -> T {
    let Some(storage) = storage else { return T::default() };
    if storage.get_string(key).is_none() {
        return T::default();
    }
    eframe::get_value(storage, key).unwrap_or_else(|| {
        notices.push("The saved settings could not be read, so the defaults are used.".to_owned());
        T::default()
    })
}

impl ReluLabApp {
    /// Starts the app and its trainer. With `config`, the run starts on it; otherwise on the
    /// saved lesson (the first one on a first launch). Settings come from `storage`.
    pub fn new(config: Option<RunConfig>, storage: Option<&dyn eframe::Storage>, ctx: &egui::Context) -> Self {
        Self::with_options(AppOptions { config, ..AppOptions::default() }, storage, ctx)
    }

    /// Starts the app and its trainer as `options` say (see [`AppOptions`]): on a run, a
    /// shared link or the saved lesson; its trainer on a thread or in the frames; on the
    /// desktop or in a browser tab. Settings come from `storage`.
    pub fn with_options(options: AppOptions, storage: Option<&dyn eframe::Storage>, ctx: &egui::Context) -> Self {
        let AppOptions { config, link, backend, page, leaves_script_to_caller } = options;
        let mut notices = Vec::new();
        let mut settings: ViewSettings = load_or_default(storage, SETTINGS_KEY, &mut notices);
        let preferences: Preferences = load_or_default(storage, PREFERENCES_KEY, &mut notices);
        notices.dedup();
        let lessons = load_lessons().unwrap_or_else(|error| {
            notices.push(error.to_string());
            Vec::new()
        });
        if settings.lesson >= lessons.len() {
            settings.lesson = 0;
        }
        let is_run_given = config.is_some();
        let config = config.or_else(|| share::open_at_start(link.as_deref(), &lessons, &mut settings, &mut notices));
        let config = config.unwrap_or_else(|| lesson_config(&lessons, settings.lesson).unwrap_or_default());
        // A plain lesson (no run; no link, or one that changes nothing) plays its script.
        let is_plain_lesson =
            !is_run_given && !leaves_script_to_caller && is_lesson_as_measured(&lessons, settings.lesson, &config);
        let is_first_launch = storage.is_none_or(|storage| storage.get_string(SETTINGS_KEY).is_none());
        let mut app = Self {
            link: TrainerLink::start(
                ctx,
                config,
                DEFAULT_SPEED,
                backend,
                page.as_ref().and_then(|page| page.trainer_port()),
            ),
            settings,
            preferences,
            selection: None,
            notice: (!notices.is_empty()).then(|| notices.join(" ")),
            lessons,
            controls: ControlsPanel::default(),
            network_view: NetworkView::default(),
            compare_view: CompareView::default(),
            seeds_panel: SeedsPanel::default(),
            target: Target::B,
            is_help_open: false,
            frame_rate: frame_rate::FrameRate::default(),
            applied_theme: None,
            applied_fullscreen: None,
            files: FilesPanel::default(),
            file_jobs: None,
            capture: Capture::default(),
            area_rects: AreaRects::default(),
            loaded_from: None,
            wanted: Wanted::default(),
            lesson_beat: None,
            is_window_size_due: is_first_launch,
            page: None,
            autopsy: AutopsyPanel::default(),
            map: MapView::default(),
            pending_lesson: None,
            panel_check: layout::PanelCheck::FirstFrame,
        };
        app.start_files(ctx, page);
        // The trainer has started on the lesson's run already; it starts again from step 0
        // with the script, so that the script's steps are the run's.
        if is_plain_lesson && let Some(lesson) = app.lessons.get(app.settings.lesson) {
            let config = Box::new(app.link.run_config().clone());
            app.send(WorkerCommand::LoadLesson { config, script: lesson.script() });
        }
        theme::install_fonts(ctx);
        app.applied_theme = Some(theme::apply(ctx, &app.settings, None));
        app
    }

    /// What the trainer is doing, as the app knows it.
    pub fn status(&self) -> &RunStatus {
        self.link.status()
    }

    /// The run's newest snapshot (branch A's while compared; in the seeds view, the run's
    /// that waits).
    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.link.snapshot()
    }

    /// The newest view: the run and what its mode shows besides (B, the seeds).
    pub fn view(&self) -> Option<&Arc<View>> {
        self.link.view()
    }

    /// The run's history.
    pub fn history(&self) -> &History {
        self.link.history()
    }

    /// Branch B's history, while the run is compared with a fork of itself.
    pub fn history_b(&self) -> Option<&History> {
        self.link.history_b()
    }

    /// The viewer's settings.
    pub fn settings(&self) -> &ViewSettings {
        &self.settings
    }

    /// Adds a message for the user (after any already shown).
    pub fn add_notice(&mut self, notice: String) {
        self.notice = Some(match self.notice.take() {
            Some(earlier) => format!("{earlier} {notice}"),
            None => notice,
        });
    }

    /// The message shown to the user, if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The selected neuron.
    pub fn selection(&self) -> Option<NeuronId> {
        self.selection
    }

    /// The training speed.
    pub fn speed(&self) -> Speed {
        self.link.speed()
    }

    /// Where the trainer runs now (`None` while it is stopped).
    pub fn trainer_backend(&self) -> Option<crate::train::worker::TrainerBackend> {
        self.link.trainer_backend()
    }

    /// Where the trainer runs now, in words (`None` while it is stopped).
    pub fn trainer_place(&self) -> Option<&'static str> {
        self.link.trainer_place()
    }

    /// Every lesson.
    pub fn lessons(&self) -> &[Lesson] {
        &self.lessons
    }

    /// The Files window's state.
    pub fn files(&self) -> &FilesPanel {
        &self.files
    }

    /// Whether a recording is starting or running.
    pub fn is_recording(&self) -> bool {
        self.capture.is_recording()
    }

    /// Sends `command` to the trainer; a refusal becomes the notice.
    fn send(&mut self, command: WorkerCommand) {
        if let Err(message) = self.link.send(command) {
            self.notice = Some(message);
            self.controls.resync();
        }
    }

    /// What a trainer event means for the app beyond the link's own state.
    fn take_news(&mut self, news: News) {
        match news {
            News::Notice(message) => self.notice = Some(message),
            News::Refused(message) => {
                self.notice = Some(format!("Not applied: {message}"));
                self.controls.resync();
            }
            News::Record(record) => {
                if self.wanted.record {
                    self.wanted.record = false;
                    self.save_record(record);
                }
            }
            News::Network(network) => {
                if self.wanted.network {
                    self.wanted.network = false;
                    self.save_network(network);
                }
            }
            News::NewRun => {
                self.selection = None;
                self.lesson_beat = None;
            }
            News::Beat(index) => {
                self.lesson_beat = Some(index);
                let ring = self.lessons.get(self.settings.lesson).and_then(|lesson| lesson.beats.get(index)?.ring);
                if let Some(ring) = ring {
                    self.selection = Some((ring.layer.saturating_sub(1), ring.neuron.saturating_sub(1)));
                }
            }
            // A script that played its last beat leaves that beat's caption on the card; one
            // ended by a change of run (a load, going back) leaves none.
            News::ScriptEnded => {
                let beats = self.lessons.get(self.settings.lesson).map_or(0, |lesson| lesson.beats.len());
                if self.lesson_beat.is_none_or(|index| index + 1 != beats) {
                    self.lesson_beat = None;
                }
            }
            News::Autopsy(neuron, result) => {
                self.autopsy.answer((neuron.layer, neuron.neuron), result.map(|autopsy| *autopsy));
            }
        }
    }

    /// Applies what a panel asked for.
    pub fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::Trainer(command) => {
                let command = self.aimed(command);
                if matches!(command, WorkerCommand::Fork { .. } | WorkerCommand::CompareFromStart { .. }) {
                    self.target = Target::B;
                }
                self.send(command);
            }
            Intent::SetTarget(target) => self.target = target,
            Intent::ToggleSeeds => {
                let is_open = self.link.view().is_some_and(|view| view.seeds().is_some());
                self.send(if is_open {
                    WorkerCommand::CloseSeeds
                } else {
                    WorkerCommand::OpenSeeds { count: DEFAULT_SEEDS }
                });
            }
            Intent::Select(selection) => self.selection = selection,
            Intent::LoadLesson(index) => {
                // A comparison or the seeds view would be thrown away: ask first.
                let is_forked_or_seeds = self.link.view().is_some_and(|view| view.mode != ModeView::Run);
                if is_forked_or_seeds {
                    self.pending_lesson = Some(index);
                } else {
                    self.load_lesson(index);
                }
            }
            Intent::ConfirmLesson(answer) => {
                self.pending_lesson = None;
                if let Some(index) = answer {
                    self.load_lesson(index);
                }
            }
            Intent::ToggleControlsPanel => {
                let preferences = &mut self.preferences;
                let open = if self.settings.presentation {
                    &mut preferences.is_controls_panel_open_presenting
                } else {
                    &mut preferences.is_controls_panel_open
                };
                *open = !*open;
            }
            Intent::ResetLayout => {
                self.preferences = Preferences::default();
                self.panel_check = layout::PanelCheck::ForgetAll;
                self.notice = Some("The layout is back as on a first launch.".to_owned());
            }
            Intent::TogglePresentation => self.settings.presentation = !self.settings.presentation,
            Intent::ToggleHelp => self.is_help_open = !self.is_help_open,
            Intent::ToggleTheme => self.settings.dark_theme = !self.settings.dark_theme,
            Intent::ToggleLessonsPanel => {
                self.preferences.is_lessons_panel_open = !self.preferences.is_lessons_panel_open;
            }
            Intent::RestartWorker => {
                self.notice = None;
                self.selection = None;
                self.link.restart_same();
            }
            Intent::ToggleFiles => self.files.is_open = !self.files.is_open,
            Intent::Autopsy(neuron) => self.ask_autopsy(neuron),
            Intent::ToggleMap => self.map.toggle(),
            Intent::Files(intent) => self.apply_file_intent(intent),
            Intent::Notice(text) => self.add_notice(text),
        }
    }

    /// Opens the autopsy panel on `neuron` (selected, so it is ringed) and asks the trainer.
    fn ask_autopsy(&mut self, neuron: NeuronId) {
        self.selection = Some(neuron);
        self.autopsy.ask(neuron);
        self.send(WorkerCommand::Autopsy(crate::train::autopsy::NeuronRef { layer: neuron.0, neuron: neuron.1 }));
    }

    /// A live change goes to the branch the user chose while comparing (or, in the seeds
    /// view, to that branch in every seed); otherwise to the run.
    fn aimed(&self, command: WorkerCommand) -> WorkerCommand {
        let is_forked = self.link.view().is_some_and(|view| view.is_forked());
        match command {
            WorkerCommand::Session(command) if is_forked && !command.resets_network() => {
                WorkerCommand::OnBranch { target: self.target, command }
            }
            other => other,
        }
    }

    /// The snapshot the controls show: B's while changes go to B alone; in the seeds view,
    /// the first seed's (of the branch changes go to).
    fn controlled_snapshot<'a>(&self, view: Option<&'a View>) -> Option<&'a Snapshot> {
        let view = view?;
        let b_wanted = self.target == Target::B;
        let snapshot = match &view.mode {
            ModeView::Run => &view.run,
            ModeView::Compare { b, .. } => {
                if b_wanted {
                    b
                } else {
                    &view.run
                }
            }
            ModeView::Seeds(seeds) => {
                let lane = seeds.lanes.first()?;
                if b_wanted { lane.b.as_ref().unwrap_or(&lane.a) } else { &lane.a }
            }
        };
        Some(snapshot)
    }

    fn load_lesson(&mut self, index: usize) {
        let config = match lesson_config(&self.lessons, index) {
            Ok(config) => config,
            Err(message) => {
                self.notice = Some(message);
                return;
            }
        };
        self.settings.lesson = index;
        self.loaded_from = None;
        self.selection = None;
        self.notice = None;
        self.lesson_beat = None;
        let script = self.lessons.get(index).map(Lesson::script).unwrap_or_default();
        self.start_lesson_run(config, Some(script));
    }

    /// Starts a new run from `config`, playing `script` from its first step if given (the
    /// trainer makes each beat at its step), and trains.
    fn start_lesson_run(&mut self, config: RunConfig, script: Option<Vec<ScriptBeat>>) {
        if !self.link.has_trainer() {
            // The trainer is started on the config and takes the script before its first step.
            self.link.restart(config.clone());
        }
        let command = match script {
            Some(script) => WorkerCommand::LoadLesson { config: Box::new(config), script },
            None => WorkerCommand::Load(Box::new(config)),
        };
        self.send(command);
        self.send(WorkerCommand::Resume);
    }

    /// The plots area: the open lesson's key plot first, then as many of the others as fit
    /// legibly, most telling first.
    fn plots_ui(&self, ui: &mut egui::Ui, view: Option<&View>) -> Vec<Intent> {
        /// The narrowest a plot may be and still be read from the back of a room.
        const MIN_PLOT_WIDTH: f32 = 300.0;
        let Self { settings, selection, lessons, .. } = self;
        let history = self.link.history();
        let selection = *selection;
        let mut intents = Vec::new();
        // Presentation text is larger, so each plot needs more room to stay legible.
        let min_width = if settings.presentation { MIN_PLOT_WIDTH * 1.45 } else { MIN_PLOT_WIDTH };
        let count = ((ui.available_width() / min_width).floor() as usize).clamp(2, 6);
        let snapshot = view.map(|view| view.run.as_ref());
        if let (Some(b_history), Some(fork)) = (self.link.history_b(), view.and_then(View::fork)) {
            let quantities = plots::compare_plot::Quantity::shown(history, b_history);
            shared::plain_columns(ui, count.min(quantities.len()), |index, ui| {
                plots::compare_plot::ui(ui, quantities[index], history, b_history, fork.step, settings);
            });
            return intents;
        }
        let key = lessons.get(settings.lesson).map_or(KeyPlot::Loss, |lesson| lesson.plot);
        let order = plot_order(key);
        shared::plain_columns(ui, count, |index, ui| {
            if let Some(&plot) = order.get(index) {
                ui.push_id(("plot", plot_id(plot)), |ui| {
                    intents.extend(plots::key_plot_ui(ui, plot, history, snapshot, selection, settings));
                });
            }
        });
        intents
    }

    /// The centre: the network, neuron by neuron, and what it computes.
    fn centre_ui(&mut self, ui: &mut egui::Ui, view: Option<&View>, rects: &mut AreaRects) -> Vec<Intent> {
        let Self { network_view, settings, selection, link, lessons, .. } = self;
        let settings: &ViewSettings = settings;
        let mut intents = Vec::new();
        let Some(view) = view else {
            ui.centered_and_justified(|ui| ui.label("Starting the trainer…"));
            return intents;
        };
        let snapshot = view.run.as_ref();
        if self.map.is_open() {
            let area = egui::CentralPanel::no_frame()
                .show(ui, |ui| self.map.ui(ui, &snapshot.config, "the current run's settings", settings));
            rects.network_view = Some(area.response.rect);
            return area.inner;
        }
        match &view.mode {
            ModeView::Seeds(seeds) => {
                let area = egui::CentralPanel::no_frame().show(ui, |ui| self.seeds_panel.ui(ui, seeds, settings));
                rects.network_view = Some(area.response.rect);
                return area.inner;
            }
            ModeView::Compare { b, fork } => {
                let comparison = Comparison { a: snapshot, b, fork, target: self.target };
                let area = egui::CentralPanel::no_frame()
                    .show(ui, |ui| self.compare_view.ui(ui, &comparison, *selection, settings));
                rects.network_view = Some(area.response.rect);
                return area.inner;
            }
            ModeView::Run => {}
        }
        let output_width = layout::output_column_width(ui, settings);
        let mode = if settings.presentation { "presentation" } else { "normal" };
        let output =
            egui::Panel::right(("output_view", mode)).default_size(output_width).resizable(false).show(ui, |ui| {
                // Presenting, the bottom panel is gone: the lesson's key plot sits under the output.
                if settings.presentation {
                    let key = lessons.get(settings.lesson).map_or(KeyPlot::Loss, |lesson| lesson.plot);
                    let history = link.history();
                    intents.extend(layout::output_and_key_plot_ui(ui, snapshot, history, key, *selection, settings));
                } else {
                    output_view::output_ui(ui, snapshot, settings);
                }
            });
        rects.output_view = Some(output.response.rect);
        let network = egui::CentralPanel::no_frame().show(ui, |ui| {
            intents.extend(network_view.ui(ui, snapshot, *selection, settings));
        });
        rects.network_view = Some(network.response.rect);
        intents
    }

    /// The notice line, with a button to dismiss it.
    fn notice_ui(&mut self, ui: &mut egui::Ui) {
        let Some(notice) = &self.notice else { return };
        let mut is_dismissed = false;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("Note: {notice}")).color(ui.visuals().warn_fg_color));
            is_dismissed = ui.small_button("Dismiss").on_hover_text("Hide this message").clicked();
        });
        if is_dismissed {
            self.notice = None;
        }
    }

    /// Presentation mode fills the screen (a projector shows nothing else); leaving it gives
    /// the window back.
    fn fill_the_screen_when_presenting(&mut self, ctx: &egui::Context) {
        // A browser tab goes full screen only from the page (index.html does it on F): eframe's
        // web backend has no full-screen command and would only log that.
        if self.page.is_some() {
            return;
        }
        if self.applied_fullscreen != Some(self.settings.presentation) {
            self.applied_fullscreen = Some(self.settings.presentation);
            ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(self.settings.presentation));
        }
    }

    /// On a first launch, grows the window to most of the monitor (once its size is known).
    fn size_window_for_the_monitor(&mut self, ctx: &egui::Context) {
        if !self.is_window_size_due {
            return;
        }
        let Some(monitor) = ctx.input(|input| input.viewport().monitor_size) else { return };
        self.is_window_size_due = false;
        let wanted = monitor * FIRST_WINDOW_SHARE;
        let now = ctx.content_rect().size();
        if wanted.x > now.x + 1.0 || wanted.y > now.y + 1.0 {
            ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(wanted.max(now)));
        }
    }
}

/// The plots in the order they are shown: `key` first, then the rest by how telling they are.
fn plot_order(key: KeyPlot) -> Vec<KeyPlot> {
    const DEFAULT_ORDER: [KeyPlot; 6] = [
        KeyPlot::Loss,
        KeyPlot::States,
        KeyPlot::ActivationCurve,
        KeyPlot::NeuronTime,
        KeyPlot::GradientNorms,
        KeyPlot::ActivationMatrix,
    ];
    std::iter::once(key).chain(DEFAULT_ORDER.into_iter().filter(|&plot| plot != key)).collect()
}

/// A stable id per plot, so a plot keeps its state when it moves to another column.
fn plot_id(plot: KeyPlot) -> &'static str {
    match plot {
        KeyPlot::Loss => "loss",
        KeyPlot::States => "states",
        KeyPlot::ActivationCurve => "activation_curve",
        KeyPlot::NeuronTime => "neuron_time",
        KeyPlot::GradientNorms => "gradient_norms",
        KeyPlot::ActivationMatrix => "activation_matrix",
    }
}

/// The run config of lesson `index`.
/// Whether `config` is lesson `index`'s own, as its script measures it (so the script can play).
fn is_lesson_as_measured(lessons: &[Lesson], index: usize, config: &RunConfig) -> bool {
    lesson_config(lessons, index).is_ok_and(|lesson| lesson == *config)
}

fn lesson_config(lessons: &[Lesson], index: usize) -> Result<RunConfig, String> {
    let lesson = lessons.get(index).ok_or_else(|| format!("There is no lesson {}.", index + 1))?;
    lesson.config().ok_or_else(|| format!("Lesson {:?} names an unknown or broken preset.", lesson.title))
}

impl eframe::App for ReluLabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_trainer(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
        eframe::set_value(storage, PREFERENCES_KEY, &self.preferences);
    }
}

impl ReluLabApp {
    /// Runs an in-frame trainer for its share of the frame, then takes the trainer's waiting
    /// events (for at most ~10 ms) and its newest snapshot; asks for another frame if events
    /// remain. Never blocks.
    pub fn drain_trainer(&mut self, ctx: &egui::Context) {
        self.link.pump();
        let (news, is_more_waiting) = self.link.drain();
        for item in news {
            self.take_news(item);
        }
        if is_more_waiting {
            ctx.request_repaint();
        }
        self.poll_files(ctx);
    }

    /// Draws the whole window into `ui` and applies what the panels asked for.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.frame_rate.tick();
        let ctx = ui.ctx().clone();
        self.size_window_for_the_monitor(&ctx);
        self.fill_the_screen_when_presenting(&ctx);
        self.applied_theme = Some(theme::apply(&ctx, &self.settings, self.applied_theme));
        self.panel_check = layout::check_panel_sizes(ui, self.panel_check);
        let is_diverged = matches!(self.link.status(), RunStatus::Diverged { .. });
        let mut intents = shortcuts::read(&ctx, self.link.status().is_running(), is_diverged);
        let view = self.link.view().cloned();
        let view = view.as_deref();
        let snapshot = view.map(|view| view.run.as_ref());
        let is_seeds_view = view.is_some_and(|view| view.seeds().is_some());
        self.capture.before_ui(&ctx);
        self.take_dropped_files(&ctx);
        let mut rects = AreaRects { window: ctx.content_rect(), ..AreaRects::default() };
        if layout::is_narrow(&ctx) {
            intents.extend(self.narrow_ui(ui, view, &mut rects));
            self.finish_frame(&ctx, intents, rects, snapshot.is_some());
            return;
        }
        let (top_intents, top_bar) = self.top_bar_ui(ui, view);
        intents.extend(top_intents);
        rects.top_bar = Some(top_bar);
        // One panel id per mode, so each mode keeps its own panel sizes when F toggles it.
        let mode = if self.settings.presentation { "presentation" } else { "normal" };
        intents.extend(self.lessons_ui(ui, mode));
        // The seeds view takes the whole centre: the run's own plots wait with the run.
        if !is_seeds_view && layout::has_plots_panel(&ctx, &self.settings, view) {
            let plots = egui::Panel::bottom(("plots_panel", mode))
                .resizable(true)
                .default_size(layout::plots_panel_height(&ctx))
                .size_range(120.0..=700.0)
                .show(ui, |ui| intents.extend(self.plots_ui(ui, view)));
            rects.plots = Some(plots.response.rect);
        }
        if self.preferences.is_controls_open(self.settings.presentation) {
            egui::Panel::left(("controls_panel", mode))
                .default_size(layout::controls_panel_width(&ctx))
                .size_range(210.0..=520.0)
                .show(ui, |ui| {
                    let controlled = self.controlled_snapshot(view);
                    intents.extend(self.controls.ui(ui, controlled, self.settings.presentation));
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            intents.extend(self.notices_and_banner_ui(ui, is_seeds_view, snapshot));
            intents.extend(self.centre_ui(ui, view, &mut rects));
            self.veil_a_diverged_run(ui, view, &rects);
        });
        self.finish_frame(&ctx, intents, rects, snapshot.is_some());
    }

    /// The notice line, a question that waits for an answer, and the banner for the run's
    /// state.
    fn notices_and_banner_ui(
        &mut self,
        ui: &mut egui::Ui,
        is_seeds_view: bool,
        snapshot: Option<&Snapshot>,
    ) -> Vec<Intent> {
        self.notice_ui(ui);
        let mut intents = layout::lesson_question_ui(ui, self.pending_lesson, &self.lessons);
        let banner = Banner {
            status: self.link.status(),
            diverged: self.link.diverged(),
            is_collapsed: snapshot.is_some_and(Snapshot::is_collapsed),
        };
        // The banner speaks of the run, which waits while the seeds view is open.
        if !is_seeds_view {
            intents.extend(banner.ui(ui));
        }
        intents
    }

    /// Over the network and output of a diverged run, a veil that says so.
    fn veil_a_diverged_run(&self, ui: &egui::Ui, view: Option<&View>, rects: &AreaRects) {
        if let RunStatus::Diverged { step, .. } = self.link.status()
            && view.is_some_and(|view| view.mode == ModeView::Run)
            && !self.map.is_open()
        {
            for rect in [rects.network_view, rects.output_view].into_iter().flatten() {
                banner::paint_diverged_veil(ui, rect, *step);
            }
        }
    }

    /// The end of every frame: the overlays, the screenshot's caption, and what the panels
    /// asked for.
    fn finish_frame(&mut self, ctx: &egui::Context, mut intents: Vec<Intent>, rects: AreaRects, has_run: bool) {
        intents.extend(self.overlays_ui(ctx, has_run));
        self.area_rects = rects;
        if self.capture.is_taking_screenshot() {
            let caption = self.caption();
            self.capture.paint_overlay(ctx, &self.area_rects, caption);
        }
        for intent in intents {
            self.apply(intent);
        }
    }

    /// The top bar, on one row; returns what was asked for and where the bar is (recordings
    /// leave it out).
    fn top_bar_ui(&mut self, ui: &mut egui::Ui, view: Option<&View>) -> (Vec<Intent>, egui::Rect) {
        let recording = self.capture.progress();
        let mut bar = self.top_bar(view);
        bar.recording = recording.as_deref();
        let mut intents = Vec::new();
        let panel = egui::Panel::top("top_bar").show(ui, |ui| {
            ui.add_space(2.0);
            intents = bar.ui(ui);
            ui.add_space(2.0);
        });
        (intents, panel.response.rect)
    }

    /// The lessons panel on the right, the whole height under the top bar: the open lesson in
    /// full, always in view, and the others below it.
    fn lessons_ui(&mut self, ui: &mut egui::Ui, mode: &str) -> Vec<Intent> {
        let width = layout::lessons_panel_width(ui.ctx(), self.settings.presentation);
        let mut intents = Vec::new();
        let mut is_open = self.preferences.is_lessons_panel_open;
        let panel = self.lessons_panel(self.link.view().map(|view| &**view), !self.settings.presentation);
        egui::Panel::right(("lessons_panel", mode)).default_size(width).size_range(220.0..=640.0).show_collapsible(
            ui,
            &mut is_open,
            |ui| intents = panel.ui(ui),
        );
        self.preferences.is_lessons_panel_open = is_open;
        intents
    }

    /// The lessons panel's state, borrowed from the app: the open lesson, how far its script
    /// has played in `view`, and the other lessons when `is_list_shown`.
    fn lessons_panel<'a>(&'a self, view: Option<&View>, is_list_shown: bool) -> LessonsPanel<'a> {
        LessonsPanel {
            lessons: &self.lessons,
            open_lesson: self.settings.lesson,
            is_list_shown,
            progress: view.and_then(|view| view.lesson),
            last_beat: self.lesson_beat,
            step: view.map_or(0, |view| view.step),
        }
    }

    /// The help overlay and the Files window, when open.
    fn overlays_ui(&mut self, ctx: &egui::Context, has_run: bool) -> Vec<Intent> {
        let mut intents = Vec::new();
        if self.is_help_open {
            intents.extend(HelpOverlay { frames_per_second: self.frame_rate.per_second() }.show(ctx));
        }
        intents.extend(self.autopsy.show(ctx, &self.settings));
        // Hidden while a screenshot is taken, so that it is not in the picture.
        if self.files.is_open && !self.capture.is_taking_screenshot() {
            let status = FilesStatus {
                recording_progress: self.capture.progress(),
                is_recording: self.capture.is_recording(),
                is_busy: self.file_jobs.as_ref().is_some_and(FileJobs::is_busy),
                has_run,
                share_link: self.share_text(),
            };
            intents.extend(self.files.show(ctx, &status));
        }
        intents
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_plot_comes_first_and_every_plot_once() {
        for key in [KeyPlot::Loss, KeyPlot::GradientNorms, KeyPlot::ActivationCurve] {
            let order = plot_order(key);
            assert_eq!(order[0], key);
            assert_eq!(order.len(), 6);
            let mut ids: Vec<&str> = order.iter().map(|&plot| plot_id(plot)).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 6);
        }
    }
}
