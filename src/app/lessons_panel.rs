//! The lessons: the story of the dying ReLU, one step per preset. The open lesson's card shows
//! its text, where its script is (the lesson's step, the caption of the beat reached, what
//! comes next) and the button that goes on to the next beat: the trainer makes each beat at its
//! scripted step, so what the screen shows at a beat is what the text states there.

use std::fmt::Write as _;

use super::shared::Intent;
use super::top_bar::named_button;
use crate::train::WorkerCommand;
use crate::train::lessons::{Beat, ForkMode, Lesson, TryIt};
use crate::train::view::LessonProgress;

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
    /// Where the open lesson's script is, while it plays.
    pub progress: Option<LessonProgress>,
    /// The last beat the script reached (its caption is shown).
    pub last_beat: Option<usize>,
    /// The run's step now (to say where a suggestion made off the script is made).
    pub step: u64,
}

impl LessonsPanel<'_> {
    /// Draws the panel and returns what the user asked for.
    pub(super) fn ui(&self, ui: &mut egui::Ui) -> Vec<Intent> {
        let Self { lessons, open_lesson, is_list_shown, .. } = *self;
        let mut intents = Vec::new();
        let Some(lesson) = lessons.get(open_lesson) else {
            ui.label("No lessons are available.");
            return intents;
        };
        let card_height = if is_list_shown { ui.available_height() * 0.74 } else { ui.available_height() };
        // Where the script is and the buttons stay below the text, in view even when it
        // scrolls: the text gets what they left, as tall as they were in the last frame.
        let footer_id = egui::Id::unique("lesson card footer height");
        let footer_height =
            ui.data(|data| data.get_temp::<f32>(footer_id)).unwrap_or(2.0 * ui.spacing().interact_size.y + 16.0);
        egui::Frame::group(ui.style()).inner_margin(8.0).fill(ui.visuals().faint_bg_color).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let text_height = (card_height - footer_height - 24.0).max(80.0);
            egui::ScrollArea::vertical().id_salt("open_lesson").max_height(text_height).show(ui, |ui| {
                open_lesson_text_ui(ui, lesson);
            });
            ui.add_space(4.0);
            let footer_top = ui.cursor().top();
            self.progress_ui(ui, lesson);
            intents.extend(self.buttons_ui(ui, open_lesson, lesson));
            let measured = ui.min_rect().bottom() - footer_top;
            if (measured - footer_height).abs() > 0.5 {
                ui.data_mut(|data| data.insert_temp(footer_id, measured));
                ui.ctx().request_repaint();
            }
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

impl LessonsPanel<'_> {
    /// Whether the script played its last beat on this run (its caption stays on the card).
    fn has_played_to_the_end(&self, lesson: &Lesson) -> bool {
        self.progress.is_none() && self.last_beat.is_some_and(|index| index + 1 == lesson.beats.len())
    }

    /// The lesson's step, the caption of the beat it reached, and what comes next.
    fn progress_ui(&self, ui: &mut egui::Ui, lesson: &Lesson) {
        if let Some(caption) =
            self.last_beat.and_then(|index| lesson.beats.get(index)).and_then(|beat| beat.caption.as_ref())
        {
            ui.label(egui::RichText::new(caption).strong());
        }
        let Some(progress) = self.progress else {
            if self.has_played_to_the_end(lesson) {
                ui.label(egui::RichText::new("The lesson's script has played to its end.").weak());
            }
            return;
        };
        let mut line = format!("Step {} of the lesson", progress.lesson_step);
        if let Some(measured) = lesson.beats.iter().find(|beat| beat.measure.is_some() && beat.at > 0) {
            let _ = write!(line, " · the text's figures are taken at step {}", measured.at);
        }
        ui.label(egui::RichText::new(line).weak());
        if progress.is_off_script {
            ui.label(egui::RichText::new("You changed the run: its figures now differ from the text's.").weak());
        }
    }

    /// The buttons: go on to the next beat (or make the suggestion now, once the script has
    /// ended), reload the lesson.
    fn buttons_ui(&self, ui: &mut egui::Ui, index: usize, lesson: &Lesson) -> Vec<Intent> {
        let mut intents = Vec::new();
        ui.horizontal_wrapped(|ui| {
            match self.progress.and_then(|progress| progress.next_beat) {
                Some((next, at)) => {
                    if let Some(button) = next_beat_button(lesson.beats.get(next), at, self.progress) {
                        let (text, hover) = button;
                        if named_button(ui, &text, "Next beat of the lesson", true).on_hover_text(hover).clicked() {
                            intents.push(Intent::Trainer(WorkerCommand::Resume));
                        }
                    }
                }
                // Once the script has made its suggestion, it is not offered again.
                None if self.has_played_to_the_end(lesson) => {}
                None => {
                    if let Some(try_it) = &lesson.try_it {
                        intents.extend(try_it_now_ui(ui, try_it, lesson.try_it_at(), self.step));
                    }
                }
            }
            if ui.button("Reload this lesson").on_hover_text("Start this lesson's run and its script again").clicked() {
                intents.push(Intent::LoadLesson(index));
            }
        });
        intents
    }
}

/// The button for the script's next beat at lesson step `at`: its suggestion's label, or "go
/// on to step N"; `None` when there is nothing to press (the script trains toward it).
fn next_beat_button(beat: Option<&Beat>, at: u64, progress: Option<LessonProgress>) -> Option<(String, String)> {
    let beat = beat?;
    let is_there = progress.is_some_and(|progress| progress.lesson_step >= at);
    let text = match &beat.change {
        Some(change) if is_there => format!("▶ {}", change.label),
        Some(change) => format!("▶ {} (at step {at})", change.label),
        None => format!("▶ Go on to step {at}"),
    };
    let hover = match beat.change.as_ref().map(|change| change.fork) {
        Some(None) => "The lesson's suggestion, made to the run at its step, as the lesson measured it",
        Some(Some(ForkMode::Now)) => "Fork the run at the lesson's step: B takes this change, A goes on as it was",
        Some(Some(ForkMode::FromStart)) => {
            "Start over and fork at step 0: B takes this change, same data and seed (as the lesson measured it)"
        }
        None => "Train on to the lesson's next beat (Page Down)",
    };
    Some((text, hover.to_owned()))
}

/// Once the script has ended: the suggestion made now, saying where the lesson made it.
fn try_it_now_ui(ui: &mut egui::Ui, try_it: &TryIt, scripted_at: Option<u64>, step: u64) -> Vec<Intent> {
    let hover = "Apply this change to the run now (the lesson's script has ended)";
    if !ui.button(format!("▶ {}", try_it.label)).on_hover_text(hover).clicked() {
        return Vec::new();
    }
    let mut intents = try_it_intents(try_it);
    if let Some(at) = scripted_at.filter(|&at| at != step) {
        intents.push(Intent::Notice(format!(
            "Applied now, at step {step}; the lesson's figures were measured with this change made at step {at}."
        )));
    }
    intents
}

/// The trainer commands for a lesson's suggestion (applied, or given to B of a fork), then
/// resume.
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
