//! The top bar: play/pause, step, reset, speed, counters, the run's status, the lesson picker
//! and the view toggles.

use egui::{Color32, ComboBox, RichText, Ui};

use super::shared::{Intent, ViewSettings};
use crate::train::lessons::Lesson;
use crate::train::{SessionCommand, Snapshot, Speed, WorkerCommand};

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
    /// The newest snapshot, if any.
    pub snapshot: Option<&'a Snapshot>,
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
}

/// A button whose accessible name is `name`, whatever its face shows (an icon, say).
pub fn named_button(ui: &mut Ui, face: impl Into<egui::WidgetText>, name: &str, is_enabled: bool) -> egui::Response {
    let response = ui.add_enabled(is_enabled, egui::Button::new(face));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, is_enabled, name));
    response
}

impl TopBar<'_> {
    /// Draws the bar and returns what the user asked for.
    pub fn ui(&self, ui: &mut Ui) -> Vec<Intent> {
        let Self { status, snapshot, settings, lessons, speed, is_lessons_panel_open, recording, is_recording } = *self;
        let mut intents = Vec::new();
        let trainer = |command| Intent::Trainer(command);
        let has_trainer = !matches!(status, RunStatus::WorkerDied(_));
        ui.horizontal_wrapped(|ui| {
            let is_diverged = matches!(status, RunStatus::Diverged { .. });
            if status.is_running() {
                if named_button(ui, "⏸ Pause", "Pause", has_trainer).on_hover_text("Pause training (space)").clicked()
                {
                    intents.push(trainer(WorkerCommand::Pause));
                }
            } else if named_button(ui, "▶ Play", "Play", has_trainer && !is_diverged)
                .on_hover_text("Train continuously (space)")
                .on_disabled_hover_text("The run diverged: lower the learning rate or reset")
                .clicked()
            {
                intents.push(trainer(WorkerCommand::Resume));
            }
            if named_button(ui, "⏭ Step", "Step", has_trainer && !is_diverged)
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
            ComboBox::from_label("Speed")
                .selected_text(speed_label(speed))
                .show_ui(ui, |ui| {
                    for (option, label) in SPEEDS {
                        ui.selectable_value(&mut chosen, option, label);
                    }
                })
                .response
                .on_hover_text("How many training steps per second; slow it down to watch a neuron die");
            if chosen != speed {
                intents.push(trainer(WorkerCommand::SetSpeed(chosen)));
            }
            ui.separator();
            if let Some(snapshot) = snapshot {
                ui.label(RichText::new(format!("Step {}", snapshot.step())).monospace().strong());
                ui.label(RichText::new(format!("epoch {:.1}", snapshot.evaluation.epoch)).monospace());
            }
            let color = match status {
                RunStatus::Running | RunStatus::Starting => ui.visuals().text_color(),
                RunStatus::Paused => ui.visuals().warn_fg_color,
                RunStatus::Diverged { .. } | RunStatus::WorkerDied(_) => Color32::from_rgb(235, 70, 60),
            };
            ui.label(RichText::new(status.describe()).color(color).strong());
            ui.separator();
            let open = settings.lesson.min(lessons.len().saturating_sub(1));
            let mut chosen_lesson = open;
            ComboBox::from_label("Lesson")
                .selected_text(lessons.get(open).map_or("none", |lesson| lesson.title.as_str()))
                .width(230.0)
                .show_ui(ui, |ui| {
                    for (index, lesson) in lessons.iter().enumerate() {
                        ui.selectable_value(&mut chosen_lesson, index, &lesson.title);
                    }
                })
                .response
                .on_hover_text("Jump to a step of the story (keys 1–9 and 0)");
            if chosen_lesson != open {
                intents.push(Intent::LoadLesson(chosen_lesson));
            }
            ui.separator();
            if ui
                .selectable_label(settings.presentation, "Presentation")
                .on_hover_text("Larger text, thicker lines, high contrast, colour-blind-safe colours (F)")
                .clicked()
            {
                intents.push(Intent::TogglePresentation);
            }
            let theme_face = if settings.dark_theme { "☀ Light theme" } else { "☀ Dark theme" };
            if named_button(ui, theme_face, "Switch theme", true)
                .on_hover_text("Switch between light and dark")
                .clicked()
            {
                intents.push(Intent::ToggleTheme);
            }
            if ui
                .selectable_label(is_lessons_panel_open, "Lessons")
                .on_hover_text("Show or hide the lessons panel")
                .clicked()
            {
                intents.push(Intent::ToggleLessonsPanel);
            }
            if named_button(ui, "?", "Keyboard help", true).on_hover_text("Keyboard shortcuts (?)").clicked() {
                intents.push(Intent::ToggleHelp);
            }
            files_ui(ui, recording, is_recording, &mut intents);
        });
        intents
    }
}

/// The Files… button and, while recording, the progress and a Stop button.
fn files_ui(ui: &mut Ui, recording: Option<&str>, is_recording: bool, intents: &mut Vec<Intent>) {
    if ui.button("Files…").on_hover_text("Screenshots, GIF recordings, exports, saved runs and networks").clicked() {
        intents.push(Intent::ToggleFiles);
    }
    if let Some(progress) = recording {
        ui.separator();
        ui.label(RichText::new(format!("⏺ {progress}")).color(Color32::from_rgb(235, 70, 60)).strong());
        if is_recording && named_button(ui, "⏹ Stop", "Stop recording", true).clicked() {
            intents.push(Intent::StopRecording);
        }
    }
}
