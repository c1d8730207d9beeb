//! The desktop app: the trainer runs on its own thread; every frame the app drains its events
//! (time-boxed), draws the newest snapshot, and turns what the panels return into commands.

mod banner;
pub mod capture;
mod controls_panel;
pub mod file_jobs;
pub mod files_panel;
mod footprint;
mod frame_rate;
mod help_overlay;
mod lessons_panel;
pub mod network_view;
pub mod output_view;
pub mod plots;
pub mod saved_state;
pub mod shared;
pub mod theme;
pub mod top_bar;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, Modifiers, RichText};
use serde::{Deserialize, Serialize};

use self::banner::Banner;
use self::capture::{AreaRects, Capture, CaptureOutput, GIF_WHAT, caption_text};
use self::controls_panel::ControlsPanel;
use self::file_jobs::{Content, FileJob, FileJobs, FileOutcome};
use self::files_panel::{FilesPanel, FilesStatus};
use self::lessons_panel::LessonsPanel;
use self::network_view::NetworkView;
use self::shared::{Intent, NeuronId, ViewSettings};
use self::theme::AppliedTheme;
use self::top_bar::{RunStatus, TopBar};
use crate::train::export::{LayerFile, NETWORK_FORMAT, NETWORK_VERSION, NetworkFile};
use crate::train::lessons::{Lesson, load_lessons};
use crate::train::worker::SendError;
use crate::train::{History, RunConfig, SessionCommand, Snapshot, Speed, TrainerEvent, TrainerHandle, WorkerCommand};

/// The storage key of the [`ViewSettings`] (which include the open lesson).
pub const SETTINGS_KEY: &str = "relu-lab/view-settings";
/// The storage key of the app's own layout preferences.
pub const PREFERENCES_KEY: &str = "relu-lab/preferences";
/// The speed a run starts at: slow enough to watch a neuron die, fast enough that a lesson
/// plays out in about fifteen seconds.
pub const DEFAULT_SPEED: Speed = Speed::StepsPerSecond(200.0);
/// The keys that open lessons 1 to 10.
const NUMBER_KEYS: [Key; 10] =
    [Key::Num1, Key::Num2, Key::Num3, Key::Num4, Key::Num5, Key::Num6, Key::Num7, Key::Num8, Key::Num9, Key::Num0];
/// The most time one frame spends reading trainer events.
const EVENT_BUDGET: Duration = Duration::from_millis(10);

/// The app's layout preferences, persisted beside the [`ViewSettings`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// Whether the lessons panel is shown.
    pub is_lessons_panel_open: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { is_lessons_panel_open: true }
    }
}

/// The app. Owns the trainer handle and everything the UI keeps between frames.
pub struct ReluLabApp {
    /// The trainer, unless it died (or could not start).
    trainer: Option<TrainerHandle>,
    /// For the trainer's wake-up closure.
    ctx: egui::Context,
    /// The config the current run started from (to restart a dead trainer on).
    run_config: RunConfig,
    /// The run's history, fed from the trainer's events.
    history: History,
    /// The newest snapshot.
    snapshot: Option<Arc<Snapshot>>,
    /// The viewer's settings (persisted).
    settings: ViewSettings,
    /// Layout preferences (persisted).
    preferences: Preferences,
    /// The neuron picked for the detail plots.
    selection: Option<NeuronId>,
    /// What the trainer is doing.
    status: RunStatus,
    /// A message for the user, such as a refused command.
    notice: Option<String>,
    /// Every lesson.
    lessons: Vec<Lesson>,
    /// The controls' draft values.
    controls: ControlsPanel,
    /// The network view's textures.
    network_view: NetworkView,
    /// The training speed.
    speed: Speed,
    /// Whether the keyboard help is shown.
    is_help_open: bool,
    /// Frames drawn recently (shown in the help overlay).
    frame_rate: frame_rate::FrameRate,
    /// The look last applied to the context.
    applied_theme: Option<AppliedTheme>,
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
    /// A run record was asked of the trainer, to be saved when it arrives.
    is_record_wanted: bool,
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
        let config = config.unwrap_or_else(|| lesson_config(&lessons, settings.lesson).unwrap_or_default());
        let mut app = Self {
            trainer: None,
            ctx: ctx.clone(),
            run_config: config.clone(),
            history: History::default(),
            snapshot: None,
            settings,
            preferences,
            selection: None,
            status: RunStatus::Starting,
            notice: (!notices.is_empty()).then(|| notices.join(" ")),
            lessons,
            controls: ControlsPanel::default(),
            network_view: NetworkView::default(),
            speed: DEFAULT_SPEED,
            is_help_open: false,
            frame_rate: frame_rate::FrameRate::default(),
            applied_theme: None,
            files: FilesPanel::default(),
            file_jobs: None,
            capture: Capture::default(),
            area_rects: AreaRects::default(),
            loaded_from: None,
            is_record_wanted: false,
        };
        let file_ctx = ctx.clone();
        match FileJobs::spawn(Box::new(move || file_ctx.request_repaint())) {
            Ok(jobs) => app.file_jobs = Some(jobs),
            Err(error) => app.files.tell(format!("The file thread could not start: {error}"), true),
        }
        theme::install_fonts(ctx);
        app.applied_theme = Some(theme::apply(ctx, &app.settings, None));
        app.start_trainer(config);
        app
    }

    /// Starts a fresh trainer on `config`, replacing any old one.
    fn start_trainer(&mut self, config: RunConfig) {
        self.trainer = None;
        self.history.clear();
        self.snapshot = None;
        self.selection = None;
        self.run_config = config.clone();
        let ctx = self.ctx.clone();
        match TrainerHandle::spawn(config, Box::new(move || ctx.request_repaint())) {
            Ok(trainer) => {
                if self.speed != Speed::Max {
                    // A fresh queue always has room.
                    let _ = trainer.send(WorkerCommand::SetSpeed(self.speed));
                }
                self.trainer = Some(trainer);
                self.status = RunStatus::Starting;
            }
            Err(error) => self.status = RunStatus::WorkerDied(format!("the trainer thread could not start: {error}")),
        }
    }

    /// What the trainer is doing, as the app knows it.
    pub fn status(&self) -> &RunStatus {
        &self.status
    }

    /// The newest snapshot.
    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.snapshot.as_ref()
    }

    /// The run's history.
    pub fn history(&self) -> &History {
        &self.history
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
        self.speed
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

    fn handle_event(&mut self, event: TrainerEvent) {
        match event {
            TrainerEvent::History(point) => self.history.push(point),
            TrainerEvent::Annotation(annotation) => {
                // Any applied command clears a divergence in the session.
                if matches!(self.status, RunStatus::Diverged { .. }) {
                    self.status = RunStatus::Paused;
                }
                self.history.annotate(annotation);
            }
            TrainerEvent::CommandRefused(message) => {
                self.notice = Some(format!("Not applied: {message}"));
                self.controls.resync();
            }
            TrainerEvent::Notice(message) => self.notice = Some(message),
            TrainerEvent::Rewound { step, from_divergence } => {
                self.history.truncate_after(step);
                let text = match from_divergence {
                    Some(diverged) => format!("went back to step {step} (the run had diverged at step {diverged})"),
                    None => format!("went back to step {step}"),
                };
                self.history.annotate(crate::train::Annotation { step, text });
                if matches!(self.status, RunStatus::Diverged { .. }) {
                    self.status = RunStatus::Paused;
                }
            }
            TrainerEvent::Record(record) => {
                if self.is_record_wanted {
                    self.is_record_wanted = false;
                    let step = record.steps;
                    let (folder, may_create) = self.files.save_folder();
                    let target = capture::target(&folder, may_create, format!("run-step{step}"), "json");
                    self.save("run record", target, Content::Record(record));
                }
            }
            TrainerEvent::Diverged(divergence) => {
                self.history.divergences.push(divergence);
                self.status =
                    RunStatus::Diverged { step: divergence.step, reason: divergence.cause.describe().to_owned() };
            }
            TrainerEvent::NewRun(config) => {
                self.history.clear();
                self.run_config = *config;
                self.selection = None;
                if matches!(self.status, RunStatus::Diverged { .. }) {
                    self.status = RunStatus::Paused;
                }
            }
            TrainerEvent::Running(is_running) => {
                if is_running {
                    self.status = RunStatus::Running;
                } else if !matches!(self.status, RunStatus::Diverged { .. }) {
                    self.status = RunStatus::Paused;
                }
            }
            TrainerEvent::WorkerDied(message) => {
                self.status = RunStatus::WorkerDied(message);
                self.trainer = None;
            }
        }
    }

    fn send(&mut self, command: WorkerCommand) {
        let Some(trainer) = &self.trainer else {
            self.notice = Some("The trainer has stopped: restart it first.".to_owned());
            return;
        };
        match trainer.send(command) {
            Ok(()) => {}
            Err(SendError::Full) => {
                self.notice = Some("The trainer is busy; that change was not sent. Try again.".to_owned());
                self.controls.resync();
            }
            Err(error @ SendError::Disconnected) => self.notice = Some(format!("Not sent: {error}.")),
        }
    }

    /// Applies what a panel asked for.
    pub fn apply(&mut self, intent: Intent) {
        match intent {
            Intent::Trainer(command) => {
                if let WorkerCommand::SetSpeed(speed) = command {
                    self.speed = speed;
                }
                self.send(command);
            }
            Intent::Select(selection) => self.selection = selection,
            Intent::LoadLesson(index) => self.load_lesson(index),
            Intent::TogglePresentation => self.settings.presentation = !self.settings.presentation,
            Intent::ToggleHelp => self.is_help_open = !self.is_help_open,
            Intent::ToggleTheme => self.settings.dark_theme = !self.settings.dark_theme,
            Intent::ToggleLessonsPanel => {
                self.preferences.is_lessons_panel_open = !self.preferences.is_lessons_panel_open;
            }
            Intent::RestartWorker => {
                self.notice = None;
                self.start_trainer(self.run_config.clone());
            }
            Intent::ToggleFiles => self.files.is_open = !self.files.is_open,
            intent => self.apply_file_intent(intent),
        }
    }

    /// Applies an intent of the Files window.
    fn apply_file_intent(&mut self, intent: Intent) {
        let step = self.snapshot.as_ref().map_or(0, |snapshot| snapshot.step());
        let (folder, may_create) = self.files.save_folder();
        let target =
            |what: &str, extension| capture::target(&folder, may_create, format!("{what}-step{step}"), extension);
        match intent {
            Intent::Screenshot(area) => {
                let caption = self.caption();
                let stem = format!("{}-step{step}", area.key());
                let target = capture::target(&folder, may_create, stem, "png");
                if let Err(message) = self.capture.start_screenshot(area, caption, target) {
                    self.files.tell(message, true);
                }
            }
            Intent::StartRecording { area, settings } => {
                let target =
                    capture::target(&folder, may_create, format!("recording-{}-step{step}", area.key()), "gif");
                match self.capture.start_recording(area, settings, target) {
                    Ok(job) => {
                        self.submit(job);
                        // The window would be in every frame: the top bar has the Stop button.
                        self.files.is_open = false;
                    }
                    Err(message) => self.files.tell(message, true),
                }
            }
            Intent::StopRecording => self.capture.stop_recording(),
            Intent::ExportHistoryCsv => {
                let content = Content::HistoryCsv(self.history.points.clone());
                self.save("history CSV", target("history", "csv"), content);
            }
            Intent::ExportHistoryJson => {
                let content = Content::HistoryJsonLines(self.history.points.clone());
                self.save("history JSON", target("history", "jsonl"), content);
            }
            Intent::ExportNetwork => match &self.snapshot {
                Some(snapshot) => {
                    let content = Content::Network(Box::new(network_file(snapshot)));
                    self.save("network", target("network", "json"), content);
                }
                None => self.files.tell("There is no network yet.", true),
            },
            Intent::SaveRunRecord => {
                // The trainer builds the record (with a digest of the weights); it arrives as
                // an event and is saved then.
                self.is_record_wanted = true;
                self.send(WorkerCommand::RequestRecord);
            }
            Intent::LoadRunRecord(path) => self.submit(FileJob::ReadRunRecord { path, live: false }),
            Intent::ReplayRunRecord(path) => self.submit(FileJob::ReadRunRecord { path, live: true }),
            Intent::LoadNetwork(path) => self.submit(FileJob::ReadNetwork(path)),
            _ => {}
        }
    }

    fn save(&mut self, what: &str, target: file_jobs::SaveTarget, content: Content) {
        self.submit(FileJob::Save { what: what.to_owned(), target, content });
    }

    /// Hands `job` to the file thread; a refusal is shown (and ends a starting recording).
    fn submit(&mut self, job: FileJob) {
        let is_recording_file = matches!(&job, FileJob::Save { what, .. } if what == GIF_WHAT);
        let result = match &mut self.file_jobs {
            Some(jobs) => jobs.submit(job),
            None => Err("the file thread is not running".to_owned()),
        };
        match result {
            Ok(()) => self.files.message = None,
            Err(message) => {
                self.files.tell(format!("Not done: {message}"), true);
                if is_recording_file {
                    self.capture.file_failed();
                }
            }
        }
    }

    /// The caption burned into a screenshot.
    fn caption(&self) -> String {
        let Some(snapshot) = &self.snapshot else { return "ReLU Lab".to_owned() };
        let source = match &self.loaded_from {
            Some(file) => Some(format!("from {file}")),
            None => self.lessons.get(self.settings.lesson).map(|lesson| lesson.title.clone()),
        };
        caption_text(snapshot.step(), snapshot.activation, snapshot.evaluation.learning_rate, source.as_deref())
    }

    /// Takes what the file thread and the screenshots delivered. Never blocks.
    fn poll_files(&mut self, ctx: &egui::Context) {
        let mut outcomes = Vec::new();
        if let Some(jobs) = &mut self.file_jobs {
            while let Some(outcome) = jobs.try_outcome() {
                outcomes.push(outcome);
            }
        }
        for outcome in outcomes {
            self.handle_file_outcome(outcome);
        }
        for output in self.capture.poll(ctx, &self.area_rects) {
            match output {
                CaptureOutput::Job(job) => self.submit(job),
                CaptureOutput::Message(text) => self.files.tell(text, false),
                CaptureOutput::Error(text) => {
                    // The Files window is closed while recording: say it where it is seen.
                    self.notice = Some(text.clone());
                    self.files.tell(text, true);
                }
            }
        }
    }

    fn handle_file_outcome(&mut self, outcome: FileOutcome) {
        match outcome {
            FileOutcome::Saved { what, path, .. } if what == GIF_WHAT => {
                if let Err(message) = self.capture.file_reserved(&path) {
                    self.files.tell(message, true);
                }
            }
            FileOutcome::Saved { what, path, bytes } => {
                self.files.tell(format!("Saved the {what}: {} ({})", path.display(), size_text(bytes)), false);
                self.files.saved(path);
            }
            FileOutcome::Failed { what, message } => {
                if what == GIF_WHAT {
                    self.capture.file_failed();
                    self.notice = Some(format!("The recording did not start: {message}"));
                }
                self.files.tell(format!("Could not save the {what}: {message}"), true);
            }
            FileOutcome::RunRecordRead { path, record, live } => {
                let steps = record.steps;
                self.loaded_from = file_name(&path);
                self.selection = None;
                if live {
                    self.send(WorkerCommand::ReplayLive(record));
                    let text = format!("Replaying {} live: {steps} steps, pausing where it ended", path.display());
                    self.files.tell(text, false);
                } else {
                    self.send(WorkerCommand::LoadRecord(record));
                    let text = format!("Loaded {}: replaying {steps} steps, then training on", path.display());
                    self.files.tell(text, false);
                }
            }
            FileOutcome::NetworkRead { path, network } => {
                self.loaded_from = file_name(&path);
                self.selection = None;
                self.send(WorkerCommand::LoadNetwork(network));
                self.files.tell(format!("Loaded the network {}", path.display()), false);
            }
        }
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
        if self.trainer.is_some() {
            self.send(WorkerCommand::Load(Box::new(config)));
            self.send(WorkerCommand::Resume);
        } else {
            self.start_trainer(config);
        }
    }

    /// The keyboard shortcuts, read before any widget can take the keys.
    fn shortcuts(&self, ctx: &egui::Context) -> Vec<Intent> {
        if ctx.egui_wants_keyboard_input() {
            return Vec::new();
        }
        let mut intents = Vec::new();
        let is_diverged = matches!(self.status, RunStatus::Diverged { .. });
        ctx.input_mut(|input| {
            if input.consume_key(Modifiers::NONE, Key::Space) {
                let command = if self.status.is_running() { WorkerCommand::Pause } else { WorkerCommand::Resume };
                intents.push(Intent::Trainer(command));
            }
            if input.consume_key(Modifiers::NONE, Key::ArrowRight) && !is_diverged {
                intents.push(Intent::Trainer(WorkerCommand::Step(1)));
            }
            if input.consume_key(Modifiers::NONE, Key::R) {
                intents.push(Intent::Trainer(WorkerCommand::Session(SessionCommand::Reset { seed: None })));
                intents.push(Intent::Trainer(WorkerCommand::Resume));
            }
            if input.consume_key(Modifiers::NONE, Key::F) {
                intents.push(Intent::TogglePresentation);
            }
            let is_question_mark = input.consume_key(Modifiers::SHIFT, Key::Questionmark)
                || input.consume_key(Modifiers::NONE, Key::Questionmark)
                || input.consume_key(Modifiers::SHIFT, Key::Slash);
            if is_question_mark {
                intents.push(Intent::ToggleHelp);
            }
            for (index, key) in NUMBER_KEYS.into_iter().enumerate() {
                if input.consume_key(Modifiers::NONE, key) {
                    intents.push(Intent::LoadLesson(index));
                }
            }
        });
        intents
    }

    /// The plots area: as many plots side by side as fit legibly, most telling first.
    fn plots_ui(&self, ui: &mut egui::Ui, snapshot: Option<&Snapshot>) -> Vec<Intent> {
        /// The narrowest a plot may be and still be read from the back of a room.
        const MIN_PLOT_WIDTH: f32 = 300.0;
        let Self { history, settings, selection, .. } = self;
        let selection = *selection;
        let mut intents = Vec::new();
        // Presentation text is larger, so each plot needs more room to stay legible.
        let min_width = if settings.presentation { MIN_PLOT_WIDTH * 1.4 } else { MIN_PLOT_WIDTH };
        let count = ((ui.available_width() / min_width).floor() as usize).clamp(2, 6);
        ui.columns(count, |columns| {
            for (index, ui) in columns.iter_mut().enumerate() {
                ui.push_id(("plot", index), |ui| match (index, snapshot) {
                    (0, _) => plots::loss_plot::ui(ui, history, settings),
                    (1, Some(snapshot)) => plots::activation_curve::ui(ui, snapshot, selection, settings),
                    (2, _) => plots::states_plot::ui(ui, history, settings),
                    (3, _) => intents.extend(plots::neuron_time_chart::ui(ui, history, snapshot, selection, settings)),
                    (4, _) => plots::gradient_plot::ui(ui, history, settings),
                    (5, Some(snapshot)) => {
                        intents.extend(plots::activation_matrix::ui(ui, snapshot, selection, settings));
                    }
                    _ => {
                        ui.label("Waiting for the trainer…");
                    }
                });
            }
        });
        intents
    }

    /// The centre: the network, neuron by neuron, and what it computes.
    fn centre_ui(&mut self, ui: &mut egui::Ui, snapshot: Option<&Snapshot>, rects: &mut AreaRects) -> Vec<Intent> {
        let Self { network_view, settings, selection, .. } = self;
        let mut intents = Vec::new();
        let Some(snapshot) = snapshot else {
            ui.centered_and_justified(|ui| ui.label("Starting the trainer…"));
            return intents;
        };
        let output_width = (ui.available_width() * 0.36).clamp(220.0, ui.available_height().max(220.0));
        let output = egui::Panel::right("output_view").default_size(output_width).resizable(false).show(ui, |ui| {
            output_view::output_ui(ui, snapshot, settings);
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
}

/// A byte count in words.
fn size_text(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// The file name of `path`, for captions.
fn file_name(path: &std::path::Path) -> Option<String> {
    path.file_name().map(|name| name.to_string_lossy().into_owned())
}

/// The network of `snapshot` as a network file: the same numbers [`NetworkFile::from_session`]
/// would write, taken from the snapshot instead of the worker's session.
pub fn network_file(snapshot: &Snapshot) -> NetworkFile {
    let activation_key = snapshot.activation.kind().key().to_owned();
    let mut layers: Vec<LayerFile> = snapshot
        .layers
        .iter()
        .map(|layer| {
            let slopes: Option<Vec<f32>> = layer.neurons.iter().map(|neuron| neuron.prelu_slope).collect();
            LayerFile {
                in_features: layer.neurons.first().map_or(0, |neuron| neuron.incoming_weights.len()),
                out_features: layer.neurons.len(),
                activation: activation_key.clone(),
                weight: layer.neurons.iter().map(|neuron| neuron.incoming_weights.clone()).collect(),
                bias: layer.neurons.iter().map(|neuron| neuron.bias).collect(),
                prelu_weight: slopes.filter(|_| matches!(snapshot.activation, crate::nn::Activation::Prelu { .. })),
            }
        })
        .collect();
    layers.push(LayerFile {
        in_features: snapshot.output_weights.len(),
        out_features: 1,
        activation: "linear".to_owned(),
        weight: vec![snapshot.output_weights.clone()],
        bias: vec![snapshot.output_bias],
        prelu_weight: None,
    });
    NetworkFile {
        format: NETWORK_FORMAT.to_owned(),
        version: NETWORK_VERSION,
        step: snapshot.step(),
        activation: snapshot.activation,
        config: snapshot.config.clone(),
        layers,
    }
}

/// The run config of lesson `index`.
fn lesson_config(lessons: &[Lesson], index: usize) -> Result<RunConfig, String> {
    let lesson = lessons.get(index).ok_or_else(|| format!("There is no lesson {}.", index + 1))?;
    let preset = crate::train::presets::find(&lesson.preset)
        .ok_or_else(|| format!("Lesson {:?} names an unknown preset.", lesson.title))?;
    preset.config().map_err(|error| format!("The preset {:?} is broken: {error}", preset.name))
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
    /// Takes the trainer's waiting events (for at most ~10 ms) and its newest snapshot; asks
    /// for another frame if events remain. Never blocks.
    pub fn drain_trainer(&mut self, ctx: &egui::Context) {
        let started = Instant::now();
        let mut events = Vec::new();
        let mut is_more_waiting = false;
        if let Some(trainer) = &mut self.trainer {
            while let Some(event) = trainer.try_event() {
                events.push(event);
                if started.elapsed() >= EVENT_BUDGET {
                    is_more_waiting = true;
                    break;
                }
            }
            if let Some(snapshot) = trainer.latest_snapshot()
                && self.snapshot.as_ref().is_none_or(|old| !Arc::ptr_eq(old, &snapshot))
            {
                self.snapshot = Some(snapshot);
            }
        }
        for event in events {
            self.handle_event(event);
        }
        if self.status == RunStatus::Starting && self.snapshot.is_some() {
            self.status = RunStatus::Running;
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
        self.applied_theme = Some(theme::apply(&ctx, &self.settings, self.applied_theme));
        let mut intents = self.shortcuts(&ctx);
        let snapshot = self.snapshot.clone();
        let snapshot = snapshot.as_deref();
        self.capture.before_ui(&ctx);
        let recording = self.capture.progress();
        let mut rects = AreaRects { window: ctx.content_rect(), ..AreaRects::default() };

        let top_bar = egui::Panel::top("top_bar").show(ui, |ui| {
            ui.add_space(2.0);
            intents.extend(
                TopBar {
                    status: &self.status,
                    snapshot,
                    settings: &self.settings,
                    lessons: &self.lessons,
                    speed: self.speed,
                    is_lessons_panel_open: self.preferences.is_lessons_panel_open,
                    recording: recording.as_deref(),
                    is_recording: self.capture.is_recording(),
                }
                .ui(ui),
            );
            ui.add_space(2.0);
        });
        rects.top_bar = Some(top_bar.response.rect);
        // One panel id per mode, so each mode keeps its own panel sizes when F toggles it.
        let mode = if self.settings.presentation { "presentation" } else { "normal" };
        let plots = egui::Panel::bottom(("plots_panel", mode))
            .resizable(true)
            .default_size(if self.settings.presentation { 235.0 } else { 260.0 })
            .size_range(120.0..=700.0)
            .show(ui, |ui| {
                intents.extend(self.plots_ui(ui, snapshot));
            });
        rects.plots = Some(plots.response.rect);
        let screen_width = ctx.content_rect().width();
        let side_width = (screen_width * if self.settings.presentation { 0.24 } else { 0.2 }).clamp(230.0, 420.0);
        egui::Panel::left(("controls_panel", mode)).default_size(side_width).size_range(220.0..=520.0).show(ui, |ui| {
            intents.extend(self.controls.ui(ui, snapshot, self.settings.presentation));
        });
        egui::Panel::right(("lessons_panel", mode))
            .default_size(side_width)
            .size_range(220.0..=520.0)
            .show_collapsible(ui, &mut self.preferences.is_lessons_panel_open, |ui| {
                intents.extend(LessonsPanel { lessons: &self.lessons, open_lesson: self.settings.lesson }.ui(ui));
            });
        egui::CentralPanel::default().show(ui, |ui| {
            self.notice_ui(ui);
            let banner = Banner {
                status: &self.status,
                learning_rate: snapshot
                    .map_or(self.run_config.training.learning_rate, |s| s.config.training.learning_rate),
                rewind_step: snapshot.and_then(|s| s.rewind_step),
                is_collapsed: snapshot.is_some_and(Snapshot::is_collapsed),
            };
            intents.extend(banner.ui(ui));
            intents.extend(self.centre_ui(ui, snapshot, &mut rects));
        });
        if self.is_help_open {
            intents.extend(help_overlay::show(&ctx, self.frame_rate.per_second()));
        }
        // Hidden while a screenshot is taken, so that it is not in the picture.
        if self.files.is_open && !self.capture.is_taking_screenshot() {
            let status = FilesStatus {
                recording_progress: recording,
                is_recording: self.capture.is_recording(),
                is_busy: self.file_jobs.as_ref().is_some_and(FileJobs::is_busy),
                has_run: snapshot.is_some(),
            };
            intents.extend(self.files.show(&ctx, &status));
        }
        self.area_rects = rects;
        if self.capture.is_taking_screenshot() {
            let caption = self.caption();
            self.capture.paint_overlay(&ctx, &self.area_rects, caption);
        }
        for intent in intents {
            self.apply(intent);
        }
    }
}
