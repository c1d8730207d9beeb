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
    /// Which side panels are shown.
    pub panels: PanelsShown,
    /// The run diverged and was changed since: Play may try the changed network.
    pub can_try_again: bool,
    /// The recording's progress, while one is starting, running or finishing.
    pub recording: Option<&'a str>,
    /// Whether a recording is starting or running (then a Stop button shows).
    pub is_recording: bool,
    /// Whether the map of where networks die is shown.
    pub is_map_open: bool,
    /// Where the trainer runs, in words (said with the measured rate).
    pub trainer_place: Option<&'static str>,
}

/// Which side panels are shown (their toggles light up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PanelsShown {
    /// The lessons panel.
    pub is_lessons_open: bool,
    /// The settings panel.
    pub is_controls_open: bool,
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
        // One row as tall as the step counter, every control centred in it.
        let height = step_font(ui, self.settings.presentation).size.max(ui.spacing().interact_size.y) + 4.0;
        let row = egui::Layout::left_to_right(egui::Align::Center);
        ui.allocate_ui_with_layout(vec2(ui.available_width(), height), row, |ui| {
            self.transport_ui(ui, &mut intents);
            ui.separator();
            self.progress_ui(ui);
            ui.separator();
            let room = ui.available_width() - after_lesson;
            self.lesson_ui(ui, room, self.settings.presentation, &mut intents);
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

    /// The bar of a narrow window: a menu with the rest, Play or Pause, the step, and the
    /// lesson by its number.
    pub fn narrow_ui(&self, ui: &mut Ui) -> Vec<Intent> {
        let mut intents = Vec::new();
        ui.horizontal(|ui| {
            ui.menu_button("☰ Menu", |ui| {
                ui.horizontal(|ui| self.step_reset_speed_ui(ui, &mut intents));
                ui.separator();
                ui.horizontal(|ui| self.compare_ui(ui, &mut intents));
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    files_ui(ui, self.recording, self.is_recording, true, &mut intents);
                    self.view_toggles_ui(ui, TogglesPlace::NarrowMenu, &mut intents);
                    self.presentation_toggle_ui(ui, &mut intents);
                });
            });
            self.play_pause_ui(ui, &mut intents);
            self.progress_ui(ui);
            let room = ui.available_width();
            self.lesson_ui(ui, room, true, &mut intents);
        });
        intents
    }

    /// Play or pause, step, reset, speed.
    fn transport_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        self.play_pause_ui(ui, intents);
        self.step_reset_speed_ui(ui, intents);
        self.rate_or_status_ui(ui);
    }

    /// Play or Pause, always as wide as the wider of the two, so that nothing after it moves
    /// when it changes.
    fn play_pause_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        let Self { status, can_try_again, .. } = *self;
        let trainer = |command| Intent::Trainer(command);
        let has_trainer = !matches!(status, RunStatus::WorkerDied(_));
        let is_diverged = matches!(status, RunStatus::Diverged { .. });
        let width = ["⏸ Pause", "▶ Play"].into_iter().map(|face| button_width(ui, face)).fold(0.0, f32::max);
        let (face, name) = if status.is_running() { ("⏸ Pause", "Pause") } else { ("▶ Play", "Play") };
        let is_enabled = has_trainer && (status.is_running() || !is_diverged || can_try_again);
        let button = ui.add_enabled(is_enabled, egui::Button::new(face).min_size(vec2(width, 0.0)));
        button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, is_enabled, name));
        let hover = match (status.is_running(), is_diverged) {
            (true, _) => "Pause training (space)",
            (false, true) => "Try the changed network from where it diverged (it may diverge again)",
            (false, false) => "Train continuously (space)",
        };
        let button =
            button.on_hover_text(hover).on_disabled_hover_text("The run diverged: go back to a checkpoint, or reset");
        if button.clicked() {
            intents.push(trainer(if status.is_running() { WorkerCommand::Pause } else { WorkerCommand::Resume }));
        }
    }

    /// One step, reset, and the speed.
    fn step_reset_speed_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        let Self { status, speed, .. } = *self;
        let trainer = |command| Intent::Trainer(command);
        let has_trainer = !matches!(status, RunStatus::WorkerDied(_));
        let is_diverged = matches!(status, RunStatus::Diverged { .. });
        if named_button(ui, "⏭", "Step", has_trainer && !is_diverged)
            .on_hover_text("Make one training step, then pause (→)")
            .clicked()
        {
            intents.push(trainer(WorkerCommand::Step(1)));
        }
        // Presenting, the word gives its room to the step counter (the name stays "Reset").
        let reset_face = if self.settings.presentation { "⟲" } else { "⟲ Reset" };
        if named_button(ui, reset_face, "Reset", has_trainer)
            .on_hover_text("Start over from a fresh network with the same seed (R)")
            .clicked()
        {
            intents.push(trainer(WorkerCommand::Session(SessionCommand::Reset { seed: None })));
            intents.push(trainer(WorkerCommand::Resume));
        }
        let mut chosen = speed;
        // As wide as its widest choice, no wider: the bar has to stay one row at 1280 points.
        let widest = SPEEDS
            .iter()
            .map(|&(option, _)| short_speed_label(option))
            .map(|text| text_width(ui, &text, egui::TextStyle::Button.resolve(ui.style())));
        let width = widest.fold(0.0, f32::max) + ui.spacing().icon_width + ui.spacing().icon_spacing + 4.0;
        ComboBox::from_id_salt("speed")
            .width(width)
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

    /// The step counter (large in presentation mode, for the back of the room; the seeds'
    /// own steps in the seeds view; the epoch on hover) and the status when it is not plain
    /// training, each in a slot of fixed width, so that the bar does not shift when they change.
    fn progress_ui(&self, ui: &mut Ui) {
        let Self { view, settings, .. } = *self;
        let step = view.map_or(0, |view| view.step);
        // Presenting: a small "step" and the number in large.
        let (text, number) = if settings.presentation {
            ui.label(RichText::new("step").strong());
            (RichText::new(step.to_string()), step.to_string())
        } else {
            (RichText::new(format!("step {step}")), format!("step {step}"))
        };
        let font = step_font(ui, settings.presentation);
        // As wide as the widest step shown so far, so it never shrinks and the bar never shifts.
        let widest_id = ui.scope_id().with("widest step counter");
        let widest = ui.data(|data| data.get_temp(widest_id)).unwrap_or(0.0);
        let width = text_width(ui, &number, font.clone()).max(widest);
        ui.data_mut(|data| data.insert_temp(widest_id, width));
        fixed_width_ui(ui, width, |ui| {
            let label = ui.label(text.font(font).strong());
            // The accessible name reads as the bar's text does: "step 3000".
            label.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, format!("step {step}")));
            if let Some(view) = view {
                let what = if view.seeds().is_some() { "The seeds' own steps, in lockstep. " } else { "" };
                label.on_hover_text(format!("{what}Epoch {:.1}: passes over the training set", view.epoch()));
            }
        });
    }

    /// Beside the speed, in one slot of fixed width (so the bar never shifts): while training,
    /// the steps per second made lately; otherwise "Paused", "Diverged" or "Stopped" (in full
    /// on hover).
    fn rate_or_status_ui(&self, ui: &mut Ui) {
        let status = self.status;
        let rate = steps_per_second(ui, self.view.map(|view| view.step), status.is_running());
        let small = egui::TextStyle::Small.resolve(ui.style());
        let width = ["Paused", "Diverged", "Stopped"]
            .into_iter()
            .map(|word| text_width(ui, word, small.clone()) * 1.08)
            .fold(text_width(ui, "≈0000/s", small.clone()), f32::max);
        let (word, color) = match status {
            RunStatus::Running | RunStatus::Starting => ("", ui.visuals().text_color()),
            RunStatus::Paused => ("Paused", ui.visuals().warn_fg_color),
            RunStatus::Diverged { .. } => ("Diverged", Color32::from_rgb(235, 70, 60)),
            RunStatus::WorkerDied(_) => ("Stopped", Color32::from_rgb(235, 70, 60)),
        };
        fixed_width_ui(ui, width, |ui| {
            if !word.is_empty() {
                ui.label(RichText::new(word).font(small.clone()).color(color).strong())
                    .on_hover_text(status.describe());
            } else if let Some(rate) = rate {
                let place = self.trainer_place.map(|place| format!("; the trainer runs {place}")).unwrap_or_default();
                ui.label(RichText::new(format!("≈{rate:.0}/s")).font(small).weak()).on_hover_text(format!(
                    "{rate:.0} steps per second made over the last second and a half, as measured here (the \
                     speed asked for is left of it){place}"
                ));
            }
        });
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
    fn lesson_ui(&self, ui: &mut Ui, room: f32, is_short: bool, intents: &mut Vec<Intent>) {
        let Self { settings, lessons, .. } = *self;
        let open = settings.lesson.min(lessons.len().saturating_sub(1));
        let mut chosen_lesson = open;
        // In presentation mode the open lesson's card shows its title in large; the bar says
        // only which lesson it is, so the bar stays on one row at 1280 points.
        let body = ui.text_style_height(&egui::TextStyle::Body);
        let (width, selected) = if is_short {
            // "Lesson 3", or just "3" when the bar is full (while recording, say).
            let long = format!("Lesson {}", open + 1);
            let long_width = whole_text_width(ui, &long);
            let short = format!("{}", open + 1);
            if long_width <= room { (long_width, long) } else { (whole_text_width(ui, &short), short) }
        } else {
            let title = lessons.get(open).map_or("none", |lesson| lesson.title.as_str());
            // As wide as fits in `room` (less the combo box's arrow), 3.5 to 15 text heights wide.
            (((room - ui.spacing().icon_width * 2.0).min(body * 15.0)).max(body * 3.5), title.to_owned())
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
                .on_hover_text("Lesson: jump to a step of the story (keys 1–9, 0, - and =)")
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Lesson"));
        });
        if chosen_lesson != open {
            intents.push(Intent::LoadLesson(chosen_lesson));
        }
    }

    /// From the right: files (and a recording's progress), help, lessons panel, theme,
    /// presentation.
    fn toggles_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        let Self { settings, recording, is_recording, .. } = *self;
        files_ui(ui, recording, is_recording, settings.presentation, intents);
        if settings.presentation {
            // Presenting, the bar's room goes to the large step counter: the view toggles wait
            // in a menu.
            let menu = ui.menu_button("☰", |ui| self.view_toggles_ui(ui, TogglesPlace::PresentingMenu, intents));
            menu.response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, "View"));
            menu.response.on_hover_text("Help, the lessons and settings panels, the theme");
        } else {
            self.view_toggles_ui(ui, TogglesPlace::Bar, intents);
        }
        self.presentation_toggle_ui(ui, intents);
    }

    /// Help, the lessons panel, the settings panel (which only presentation mode hides), the
    /// theme. A narrow window has no panels to toggle: it shows both in its column.
    fn view_toggles_ui(&self, ui: &mut Ui, place: TogglesPlace, intents: &mut Vec<Intent>) {
        let Self { settings, panels, .. } = *self;
        let PanelsShown { is_lessons_open: is_lessons_panel_open, is_controls_open: is_controls_panel_open } = panels;
        if named_button(ui, "?", "Keyboard help", true).on_hover_text("Keyboard shortcuts (?)").clicked() {
            intents.push(Intent::ToggleHelp);
        }
        if place != TogglesPlace::NarrowMenu
            && ui
                .selectable_label(is_lessons_panel_open, "Lessons")
                .on_hover_text("Show or hide the lessons panel")
                .clicked()
        {
            intents.push(Intent::ToggleLessonsPanel);
        }
        if place == TogglesPlace::PresentingMenu
            && ui
                .selectable_label(is_controls_panel_open, "Settings")
                .on_hover_text(
                    "Show or hide the settings (presentation mode hides them, to give the networks the room)",
                )
                .clicked()
        {
            intents.push(Intent::ToggleControlsPanel);
        }
        let theme_face = if settings.dark_theme { "☀" } else { "🌙" };
        if named_button(ui, theme_face, "Switch theme", true)
            .on_hover_text(if settings.dark_theme { "Light theme" } else { "Dark theme" })
            .clicked()
        {
            intents.push(Intent::ToggleTheme);
        }
    }

    /// Presentation mode on or off.
    fn presentation_toggle_ui(&self, ui: &mut Ui, intents: &mut Vec<Intent>) {
        if ui
            .selectable_label(self.settings.presentation, "Present")
            .on_hover_text("Presentation mode: larger text and tiles, thicker lines, colour-blind-safe colours (F)")
            .clicked()
        {
            intents.push(Intent::TogglePresentation);
        }
    }
}

/// Where the view toggles are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TogglesPlace {
    /// On the bar, outside presentation mode.
    Bar,
    /// In the bar's menu, presenting.
    PresentingMenu,
    /// In a narrow window's menu.
    NarrowMenu,
}

/// A slot `width` wide (at least) for what `add` draws, left-aligned in it.
fn fixed_width_ui(ui: &mut Ui, width: f32, add: impl FnOnce(&mut Ui)) {
    let layout = egui::Layout::left_to_right(egui::Align::Center);
    ui.allocate_ui_with_layout(vec2(width, ui.available_height()), layout, |ui| {
        ui.set_min_width(width);
        add(ui);
    });
}

/// The width of `text` in `font`, on one line.
fn text_width(ui: &Ui, text: &str, font: egui::FontId) -> f32 {
    ui.fonts_mut(|fonts| fonts.layout_no_wrap(text.to_owned(), font, Color32::WHITE).size().x)
}

/// The width of a button showing `face`.
fn button_width(ui: &Ui, face: &str) -> f32 {
    text_width(ui, face, egui::TextStyle::Button.resolve(ui.style())) + 2.0 * ui.spacing().button_padding.x
}

/// The step counter's font: monospace, and in presentation mode a quarter larger than the
/// headings, so the step can be read from the back of a room.
fn step_font(ui: &Ui, presentation: bool) -> egui::FontId {
    let size = if presentation {
        egui::TextStyle::Heading.resolve(ui.style()).size * 1.25
    } else {
        egui::TextStyle::Monospace.resolve(ui.style()).size
    };
    egui::FontId::monospace(size)
}

/// How long the live steps-per-second readout looks back.
const STEP_RATE_WINDOW: std::time::Duration = std::time::Duration::from_millis(1500);

/// The steps the trainer made per second lately, measured from the steps the views show (a
/// slow machine, or a browser tab, may not keep up with the speed asked for); `None` while
/// paused or before there is a second's worth of samples.
fn steps_per_second(ui: &Ui, step: Option<u64>, is_running: bool) -> Option<f64> {
    let id = ui.scope_id().with("step rate samples");
    // egui's clock, not the system's: a rendered take sets it frame by frame, so its pictures
    // are the same every time.
    let now = ui.input(|input| input.time);
    let mut samples: std::collections::VecDeque<(f64, u64)> = ui.data(|data| data.get_temp(id)).unwrap_or_default();
    match step {
        Some(step) if is_running => {
            if samples.back().is_some_and(|&(at, last)| last > step || at > now) {
                samples.clear();
            }
            samples.push_back((now, step));
            while samples.front().is_some_and(|&(at, _)| now - at > STEP_RATE_WINDOW.as_secs_f64()) {
                samples.pop_front();
            }
        }
        _ => samples.clear(),
    }
    let rate = match (samples.front(), samples.back()) {
        (Some(&(first_at, first)), Some(&(last_at, last))) => {
            let seconds = last_at - first_at;
            (seconds >= 0.3).then(|| (last - first) as f64 / seconds)
        }
        _ => None,
    };
    ui.data_mut(|data| data.insert_temp(id, samples));
    rate
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
