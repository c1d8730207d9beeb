//! The lessons: the story of the dying ReLU, one step per preset, each with a button that
//! loads it, what to try next, and a button that does it.

use super::shared::Intent;
use crate::train::lessons::Lesson;
use crate::train::{SessionCommand, WorkerCommand};

/// The lesson panel: the open lesson in full, the others as a list to jump to.
pub(super) struct LessonsPanel<'a> {
    /// Every lesson, in story order.
    pub lessons: &'a [Lesson],
    /// The lesson open now (from 0).
    pub open_lesson: usize,
}

impl LessonsPanel<'_> {
    /// Draws the panel and returns what the user asked for.
    pub(super) fn ui(&self, ui: &mut egui::Ui) -> Vec<Intent> {
        let Self { lessons, open_lesson } = *self;
        let mut intents = Vec::new();
        ui.heading("Lessons");
        ui.add_space(4.0);
        if lessons.is_empty() {
            ui.label("No lessons are available.");
            return intents;
        }
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            for (index, lesson) in lessons.iter().enumerate() {
                let is_open = index == open_lesson;
                let frame = egui::Frame::group(ui.style()).inner_margin(8.0).fill(if is_open {
                    ui.visuals().faint_bg_color
                } else {
                    egui::Color32::TRANSPARENT
                });
                frame.show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    if is_open {
                        intents.extend(open_lesson_ui(ui, index, lesson));
                    } else {
                        ui.label(egui::RichText::new(&lesson.title).strong());
                        if ui
                            .button(format!("Load lesson {}", index + 1))
                            .on_hover_text(format!("Load the preset {:?} and start training", lesson.preset))
                            .clicked()
                        {
                            intents.push(Intent::LoadLesson(index));
                        }
                    }
                });
                ui.add_space(2.0);
            }
        });
        intents
    }
}

/// The open lesson: title, text, what to try next and its button, reload.
pub(super) fn open_lesson_ui(ui: &mut egui::Ui, index: usize, lesson: &Lesson) -> Vec<Intent> {
    let mut intents = Vec::new();
    let title = egui::RichText::new(&lesson.title).strong();
    ui.label(title.size(ui.style().text_styles[&egui::TextStyle::Body].size * 1.15));
    ui.label(lesson.text.trim());
    ui.add_space(4.0);
    ui.label(egui::RichText::new(format!("Try next: {}", lesson.try_next)).italics());
    ui.add_space(4.0);
    ui.horizontal_wrapped(|ui| {
        if let Some(try_it) = &lesson.try_it
            && ui
                .button(format!("▶ {}", try_it.label))
                .on_hover_text("Apply this change to the run now, as the lesson suggests")
                .clicked()
        {
            intents.extend(try_it_intents(&try_it.commands));
        }
        if ui.button("Reload this lesson").on_hover_text("Start this lesson's run again from its preset").clicked() {
            intents.push(Intent::LoadLesson(index));
        }
    });
    intents
}

/// The trainer commands for a lesson's "try it", then resume.
fn try_it_intents(commands: &[SessionCommand]) -> Vec<Intent> {
    let mut intents: Vec<Intent> =
        commands.iter().map(|command| Intent::Trainer(WorkerCommand::Session(command.clone()))).collect();
    intents.push(Intent::Trainer(WorkerCommand::Resume));
    intents
}

#[cfg(test)]
mod tests {
    use crate::train::lessons::load_lessons;
    use crate::train::presets;

    #[test]
    fn there_is_one_lesson_per_preset_in_story_order() {
        let lessons = load_lessons().unwrap();
        let names: Vec<&str> = lessons.iter().map(|lesson| lesson.preset.as_str()).collect();
        let preset_names: Vec<&str> = presets::PRESETS.iter().map(|preset| preset.name).collect();
        assert_eq!(names, preset_names);
    }
}
