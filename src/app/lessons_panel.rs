//! The lessons: the story of the dying ReLU, one step per preset, each with a button that
//! loads it and a suggestion of what to try next.

use serde::Deserialize;

use super::shared::Intent;
use crate::train::presets;

/// The lesson texts, built into the binary.
const LESSONS_TOML: &str = include_str!("../../assets/lessons.toml");

/// One step of the story.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The heading, such as "2. Too high a learning rate kills neurons".
    pub title: String,
    /// The preset it loads (a name from [`presets::PRESETS`]).
    pub preset: String,
    /// Two or three sentences.
    pub text: String,
    /// What to try next, such as "now drag the learning rate to 3".
    pub try_next: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonFile {
    lesson: Vec<Lesson>,
}

/// Parses the built-in lessons, checking that every one names a known preset.
pub fn load_lessons() -> Result<Vec<Lesson>, String> {
    let file: LessonFile =
        toml::from_str(LESSONS_TOML).map_err(|error| format!("the lessons do not parse: {error}"))?;
    if let Some(lesson) = file.lesson.iter().find(|lesson| presets::find(&lesson.preset).is_none()) {
        return Err(format!("lesson {:?} names an unknown preset {:?}", lesson.title, lesson.preset));
    }
    Ok(file.lesson)
}

/// The lesson panel: the open lesson in full, the others as a list to jump to.
pub struct LessonsPanel<'a> {
    /// Every lesson, in story order.
    pub lessons: &'a [Lesson],
    /// The lesson open now (from 0).
    pub open_lesson: usize,
}

impl LessonsPanel<'_> {
    /// Draws the panel and returns what the user asked for.
    pub fn ui(&self, ui: &mut egui::Ui) -> Vec<Intent> {
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
                    let title = egui::RichText::new(&lesson.title).strong();
                    if is_open {
                        ui.label(title.size(ui.style().text_styles[&egui::TextStyle::Body].size * 1.15));
                        ui.label(&lesson.text);
                        ui.add_space(4.0);
                        ui.label(egui::RichText::new(format!("Try next: {}", lesson.try_next)).italics());
                        ui.add_space(4.0);
                        if ui
                            .button("Reload this lesson")
                            .on_hover_text("Start this lesson's run again from its preset")
                            .clicked()
                        {
                            intents.push(Intent::LoadLesson(index));
                        }
                    } else {
                        ui.label(title);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_one_lesson_per_preset_in_story_order() {
        let lessons = load_lessons().unwrap();
        let names: Vec<&str> = lessons.iter().map(|lesson| lesson.preset.as_str()).collect();
        let preset_names: Vec<&str> = presets::PRESETS.iter().map(|preset| preset.name).collect();
        assert_eq!(names, preset_names);
    }
}
