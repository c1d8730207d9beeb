//! The top bar: play/pause, step, reset, speed, counters, the run's status, the lesson picker
//! and the view toggles.

use egui::{Color32, ComboBox, RichText, Ui, vec2};

use super::shared::{FileIntent, Intent, ViewSettings};
use crate::train::lessons::Lesson;
use crate::train::{SessionCommand, Speed, View, WorkerCommand};

/// What the trainer is doing, as the UI knows it.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    /// No snapshot yet.
    Starting,
    /// Training.
    Running,
    /// Paused by the user (or after a step).
    Paused,
    /// Stopped by itself: the numbers overflowed.
    Diverged {
        /// The step that diverged.
        step: u64,
        /// Why, in words.
        reason: String,
    },
    /// The worker thread is gone.
    WorkerDied(String),
}

impl RunStatus {
    /// The status in a few words.
    pub fn describe(&self) -> String {
        match self {
            Self::Starting => "Starting…".to_owned(),
            Self::Running => "Training".to_owned(),
            Self::Paused => "Paused".to_owned(),
            Self::Diverged { step, reason } => format!("Diverged at step {step}: {reason}"),
            Self::WorkerDied(message) => format!("Trainer stopped: {message}"),
        }
    }

    /// Whether the trainer is training now.
    pub fn is_running(&self) -> bool {
        matches!(self, Self::Running | Self::Starting)
    }
}

/// The training speeds offered, slowest last.
pub const SPEEDS: [(Speed, &str); 5] = [
    (Speed::Max, "Full speed"),
    (Speed::StepsPerSecond(1000.0), "1000 steps/s"),
    (Speed::StepsPerSecond(200.0), "200 steps/s"),
    (Speed::StepsPerSecond(50.0), "50 steps/s"),
    (Speed::StepsPerSecond(10.0), "10 steps/s"),
];

/// The label of a speed.
pub fn speed_label(speed: Speed) -> String {
    SPEEDS
        .iter()
        .find(|(option, _)| *option == speed)
        .map_or_else(|| format!("{speed:?}"), |(_, label)| (*label).to_owned())
}

/// The top bar, drawn from borrowed state.
pub struct TopBar<'a> {
    /// The trainer's status.
    pub status: &'a RunStatus,
    /// The newest view (the run and its mode), if any.
    pub view: Option<&'a View>,
    /// The viewer's settings.
    pub settings: &'a ViewSettings,
    /// Every lesson.
    pub lessons: &'a [Lesson],
    /// The training speed.
    pub speed: Speed,
    /// Whether the lessons panel is shown.
    pub is_lessons_panel_open: bool,
    /// The recording's progress, while one is starting, running or finishing.
    pub recording: Option<&'a str>,
    /// Whether a recording is starting or running (then a Stop button shows).
    pub is_recording: bool,
    /// Whether the map of where networks die is shown.
    pub is_map_open: bool,
}

/// A button whose accessible name is `name`, whatever its face shows (an icon, say).
pub fn named_button(ui: &mut Ui, face: impl Into<egui::WidgetText>, name: &str, is_enabled: bool) -> egui::Response {
    let response = ui.add_enabled(is_enabled, egui::Button::new(face));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, is_enabled, name));
    response
}

impl TopBar<'_> {
    /// Draws the bar on one row (the transport and the lesson on the left, the view toggles on
    /// the right) and returns what the user asked for.
    pub fn ui(&self, ui: &mut Ui) -> Vec<Intent> {
        let mut intents = Vec::new();
        // What follows the lesson picker, as wide as it was in the last frame: the picker
        // gives up width to it (a recording's progress, say) so that the bar stays one row.
        let after_lesson_id = egui::Id::unique("top bar: width after the lesson picker");
        let after_lesson = ui.data(|data| data.get_temp::<f32>(after_lesson_id)).unwrap_or(0.0);
        ui.horizontal(|ui| {
            self.transport_ui(ui, &mut intents);
            ui.separator();
            self.progress_ui(ui);
            ui.separator();
            let room = ui.available_width() - after_lesson;
            self.lesson_ui(ui, room, &mut intents);
            let start = ui.cursor().left();
            self.compare_ui(ui, &mut intents);
            let compare_width = ui.cursor().left() - start;
            let toggles_width = ui
                .with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    self.toggles_ui(ui, &mut intents);
                    ui.min_rect().width()
                })
                .inner;
            let after = compare_width + toggles_width + ui.spacing().item_spacing.x;
            ui.data_mut(|data| data.insert_temp(after_lesson_id, after));
        });
        intents
    }

    /// Play or pause, step, reset, speed.
    fn transport_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        let Self { status, speed, .. } = *self;
        let trainer = |command| Intent::Trainer(command);
        let has_trainer = !matches!(status, RunStatus::WorkerDied(_));
        let is_diverged = matches!(status, RunStatus::Diverged { .. });
        if status.is_running() {
            if named_button(ui, "⏸ Pause", "Pause", has_trainer).on_hover_text("Pause training (space)").clicked() {
                intents.push(trainer(WorkerCommand::Pause));
            }
        } else if named_button(ui, "▶ Play", "Play", has_trainer && !is_diverged)
            .on_hover_text("Train continuously (space)")
            .on_disabled_hover_text("The run diverged: go back to a checkpoint, or reset")
            .clicked()
        {
            intents.push(trainer(WorkerCommand::Resume));
        }
        if named_button(ui, "⏭", "Step", has_trainer && !is_diverged)
            .on_hover_text("Make one training step, then pause (→)")
            .clicked()
        {
            intents.push(trainer(WorkerCommand::Step(1)));
        }
        if named_button(ui, "⟲ Reset", "Reset", has_trainer)
            .on_hover_text("Start over from a fresh network with the same seed (R)")
            .clicked()
        {
            intents.push(trainer(WorkerCommand::Session(SessionCommand::Reset { seed: None })));
            intents.push(trainer(WorkerCommand::Resume));
        }
        let mut chosen = speed;
        ComboBox::from_id_salt("speed")
            .selected_text(short_speed_label(speed))
            .show_ui(ui, |ui| {
                for (option, label) in SPEEDS {
                    ui.selectable_value(&mut chosen, option, label);
                }
            })
            .response
            .on_hover_text("Speed: how many training steps per second; slow it down to watch a neuron die")
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Speed"));
        if chosen != speed {
            intents.push(trainer(WorkerCommand::SetSpeed(chosen)));
        }
    }

    /// The step counter, and the status when it is not plain training.
    fn progress_ui(&self, ui: &mut Ui) {
        let Self { status, view, settings, .. } = *self;
        if let Some(view) = view {
            let epoch = view.epoch();
            let step = ui.label(RichText::new(format!("step {}", view.step)).monospace().strong());
            step.on_hover_text(format!("Epoch {epoch:.1}: passes over the training set"));
            if !settings.presentation {
                ui.label(RichText::new(format!("epoch {epoch:.1}")).monospace().weak());
            }
        }
        let color = match status {
            RunStatus::Running | RunStatus::Starting => return,
            RunStatus::Paused => ui.visuals().warn_fg_color,
            RunStatus::Diverged { .. } | RunStatus::WorkerDied(_) => Color32::from_rgb(235, 70, 60),
        };
        let short = match status {
            RunStatus::Diverged { step, .. } => format!("Diverged at {step}"),
            RunStatus::WorkerDied(_) => "Trainer stopped".to_owned(),
            _ => status.describe(),
        };
        ui.label(RichText::new(short).color(color).strong()).on_hover_text(status.describe());
    }

    /// Fork the run into A and B; open the seeds view.
    fn compare_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        let Self { view, status, .. } = *self;
        let is_comparing = view.is_some_and(View::is_forked);
        let is_seeds_open = view.is_some_and(|view| view.seeds().is_some());
        let has_trainer = !matches!(status, RunStatus::WorkerDied(_));
        let fork = ui.add_enabled(has_trainer, egui::Button::new("Fork").selected(is_comparing)).on_hover_text(
            if is_comparing {
                "Comparing A and B: end it with Keep A or Keep B (B)"
            } else {
                "Split the run here into A and B, identical in every bit; then change one of them (B)"
            },
        );
        if fork.clicked() && !is_comparing {
            intents.push(Intent::Trainer(WorkerCommand::Fork { changes: Vec::new() }));
        }
        if ui
            .add_enabled(has_trainer, egui::Button::new("Seeds").selected(is_seeds_open))
            .on_hover_text("The same settings on ten seeds at once, side by side (S)")
            .clicked()
        {
            intents.push(Intent::ToggleSeeds);
        }
        if ui
            .add(egui::Button::new("Map").selected(self.is_map_open))
            .on_hover_text("Where networks die: a grid of runs over two settings, filled in as it trains")
            .clicked()
        {
            intents.push(Intent::ToggleMap);
        }
    }

    /// The lesson menu, in at most `room` points when it can.
    fn lesson_ui(&self, ui: &mut Ui, room: f32, intents: &mut Vec<Intent>) {
        let Self { settings, lessons, .. } = *self;
        let open = settings.lesson.min(lessons.len().saturating_sub(1));
        let mut chosen_lesson = open;
        // In presentation mode the open lesson's card shows its title in large; the bar says
        // only which lesson it is, so the bar stays on one row at 1280 points.
        let body = ui.text_style_height(&egui::TextStyle::Body);
        let (width, selected) = if settings.presentation {
            // "Lesson 3", or just "3" when the bar is full (while recording, say).
            let long = format!("Lesson {}", open + 1);
            let long_width = whole_text_width(ui, &long);
            let short = format!("{}", open + 1);
            if long_width <= room { (long_width, long) } else { (whole_text_width(ui, &short), short) }
        } else {
            let title = lessons.get(open).map_or("none", |lesson| lesson.title.as_str());
            // As wide as fits in `room` (less the combo box's arrow), 5 to 15 text heights wide.
            (((room - ui.spacing().icon_width * 2.0).min(body * 15.0)).max(body * 5.0), title.to_owned())
        };
        // The box grows to fit its text up to the room it is given, and truncates beyond.
        let layout = egui::Layout::left_to_right(egui::Align::Center);
        ui.allocate_ui_with_layout(vec2(width, ui.available_height()), layout, |ui| {
            ComboBox::from_id_salt("lesson")
                .selected_text(selected)
                .width(width)
                .truncate()
                .show_ui(ui, |ui| {
                    for (index, lesson) in lessons.iter().enumerate() {
                        ui.selectable_value(&mut chosen_lesson, index, &lesson.title);
                    }
                })
                .response
                .on_hover_text("Lesson: jump to a step of the story (keys 1–9 and 0)")
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Lesson"));
        });
        if chosen_lesson != open {
            intents.push(Intent::LoadLesson(chosen_lesson));
        }
    }

    /// From the right: files (and a recording's progress), help, lessons panel, theme,
    /// presentation.
    fn toggles_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        let Self { settings, is_lessons_panel_open, recording, is_recording, .. } = *self;
        files_ui(ui, recording, is_recording, settings.presentation, intents);
        if named_button(ui, "?", "Keyboard help", true).on_hover_text("Keyboard shortcuts (?)").clicked() {
            intents.push(Intent::ToggleHelp);
        }
        if ui
            .selectable_label(is_lessons_panel_open, "Lessons")
            .on_hover_text("Show or hide the lessons panel")
            .clicked()
        {
            intents.push(Intent::ToggleLessonsPanel);
        }
        let theme_face = if settings.dark_theme { "☀" } else { "🌙" };
        if named_button(ui, theme_face, "Switch theme", true)
            .on_hover_text(if settings.dark_theme { "Light theme" } else { "Dark theme" })
            .clicked()
        {
            intents.push(Intent::ToggleTheme);
        }
        if ui
            .selectable_label(settings.presentation, "Present")
            .on_hover_text("Presentation mode: larger text, thicker lines, colour-blind-safe colours (F)")
            .clicked()
        {
            intents.push(Intent::TogglePresentation);
        }
    }
}

/// The width of a combo box that shows `text` whole.
fn whole_text_width(ui: &Ui, text: &str) -> f32 {
    let galley = egui::WidgetText::from(text).into_galley(
        ui,
        Some(egui::TextWrapMode::Extend),
        f32::INFINITY,
        egui::TextStyle::Button,
    );
    let spacing = ui.spacing();
    galley.size().x + spacing.icon_width + spacing.icon_spacing + 2.0 * spacing.button_padding.x + 4.0
}

/// A speed in a few characters: "200/s", "full".
fn short_speed_label(speed: Speed) -> String {
    match speed {
        Speed::Max => "full speed".to_owned(),
        Speed::StepsPerSecond(rate) => format!("{rate:.0}/s"),
    }
}

/// The Files… button and, while recording, a Stop button and the progress (laid out right to
/// left, so the progress ends up left of the button).
/// In presentation mode (large text) the progress is a red "⏺ REC", with the rest in its tooltip.
fn files_ui(ui: &mut Ui, recording: Option<&str>, is_recording: bool, is_compact: bool, intents: &mut Vec<Intent>) {
    if ui.button("Files…").on_hover_text("Screenshots, GIF recordings, exports, saved runs and networks").clicked() {
        intents.push(Intent::ToggleFiles);
    }
    if let Some(progress) = recording {
        let stop_face = if is_compact { "⏹" } else { "⏹ Stop" };
        if is_recording && named_button(ui, stop_face, "Stop recording", true).on_hover_text("Stop recording").clicked()
        {
            intents.push(Intent::Files(FileIntent::StopRecording));
        }
        let text = if is_compact && is_recording { "⏺ REC".to_owned() } else { format!("⏺ {progress}") };
        ui.label(RichText::new(text).color(Color32::from_rgb(235, 70, 60)).strong()).on_hover_text(progress);
        ui.separator();
    }
}
