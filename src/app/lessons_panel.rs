//! The lessons: the story of the dying ReLU, one step per preset, each with a button that
//! loads it, what to try next, and a button that does it.

use super::shared::Intent;
use super::top_bar::named_button;
use crate::train::WorkerCommand;
use crate::train::lessons::{ForkMode, Lesson, TryIt};

/// The lesson panel: the open lesson in full at the top, always in view (its text scrolls
/// only if it is longer than the panel), and the others as a list to jump to.
pub(super) struct LessonsPanel<'a> {
    /// Every lesson, in story order.
    pub lessons: &'a [Lesson],
    /// The lesson open now (from 0).
    pub open_lesson: usize,
    /// Whether the other lessons are listed under the open one (presentation mode leaves the
    /// room to the open lesson; the top bar's lesson menu and the number keys still switch).
    pub is_list_shown: bool,
}

impl LessonsPanel<'_> {
    /// Draws the panel and returns what the user asked for.
    pub(super) fn ui(&self, ui: &mut egui::Ui) -> Vec<Intent> {
        let Self { lessons, open_lesson, is_list_shown } = *self;
        let mut intents = Vec::new();
        let Some(lesson) = lessons.get(open_lesson) else {
            ui.label("No lessons are available.");
            return intents;
        };
        let card_height = if is_list_shown { ui.available_height() * 0.74 } else { ui.available_height() };
        let buttons_height = 2.0 * ui.spacing().interact_size.y + 16.0;
        egui::Frame::group(ui.style()).inner_margin(8.0).fill(ui.visuals().faint_bg_color).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let text_height = (card_height - buttons_height - 24.0).max(80.0);
            egui::ScrollArea::vertical().id_salt("open_lesson").max_height(text_height).show(ui, |ui| {
                open_lesson_text_ui(ui, lesson);
            });
            // The buttons stay below the text, in view even when the text scrolls.
            ui.add_space(4.0);
            intents.extend(open_lesson_buttons_ui(ui, open_lesson, lesson));
        });
        if is_list_shown {
            ui.add_space(6.0);
            ui.label(egui::RichText::new("Other lessons").strong());
            egui::ScrollArea::vertical().id_salt("other_lessons").auto_shrink([false, false]).show(ui, |ui| {
                for (index, other) in lessons.iter().enumerate().filter(|&(index, _)| index != open_lesson) {
                    if named_button(ui, other.title.as_str(), &format!("Load lesson {}", index + 1), true)
                        .on_hover_text(format!("Load lesson {}: the preset {:?}, training", index + 1, other.preset))
                        .clicked()
                    {
                        intents.push(Intent::LoadLesson(index));
                    }
                }
            });
        }
        intents
    }
}

/// The open lesson's title, text and what to try next.
fn open_lesson_text_ui(ui: &mut egui::Ui, lesson: &Lesson) {
    let title = egui::RichText::new(&lesson.title).strong();
    ui.label(title.size(ui.style().text_styles[&egui::TextStyle::Body].size * 1.12));
    ui.label(lesson.text.trim());
    ui.add_space(4.0);
    ui.label(egui::RichText::new(format!("Try next: {}", lesson.try_next)).italics());
}

/// The open lesson's buttons: do what it suggests, reload it.
fn open_lesson_buttons_ui(ui: &mut egui::Ui, index: usize, lesson: &Lesson) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.horizontal_wrapped(|ui| {
        if let Some(try_it) = &lesson.try_it {
            let hover = match try_it.fork {
                None => "Apply this change to the run now, as the lesson suggests",
                Some(ForkMode::Now) => "Fork the run here: B takes this change, A goes on as it was",
                Some(ForkMode::FromStart) => "Start over and fork at step 0: B takes this change, same data and seed",
            };
            if ui.button(format!("▶ {}", try_it.label)).on_hover_text(hover).clicked() {
                intents.extend(try_it_intents(try_it));
            }
        }
        if ui.button("Reload this lesson").on_hover_text("Start this lesson's run again from its preset").clicked() {
            intents.push(Intent::LoadLesson(index));
        }
    });
    intents
}

/// The trainer commands for a lesson's "try it" (applied, or given to B of a fork), then resume.
fn try_it_intents(try_it: &TryIt) -> Vec<Intent> {
    let mut intents: Vec<Intent> = try_it.worker_commands().into_iter().map(Intent::Trainer).collect();
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
