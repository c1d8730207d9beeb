//! The keyboard help: a small window listing the shortcuts.

use egui::{RichText, Ui};

use super::shared::Intent;
use super::shortcuts::{LESSON_KEYS_TEXT, SHORTCUTS};

/// The keyboard help, drawn from what it reports besides the shortcuts.
pub(super) struct HelpOverlay {
    /// How many frames the app drew in the last second.
    pub(super) frames_per_second: usize,
}

impl HelpOverlay {
    /// Draws the help as a modal window over the app; returns [`Intent::ToggleHelp`] when
    /// closed, [`Intent::ResetLayout`] when asked.
    pub(super) fn show(&self, ctx: &egui::Context) -> Vec<Intent> {
        let mut intents = Vec::new();
        let modal = egui::Modal::new(egui::Id::unique("keyboard_help")).show(ctx, |ui| {
            ui.heading("Keyboard shortcuts");
            ui.add_space(6.0);
            shortcuts_ui(ui);
            ui.add_space(8.0);
            ui.weak(format!("Drawing at {} frames per second (none while paused).", self.frames_per_second));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Close help").clicked() {
                    intents.push(Intent::ToggleHelp);
                }
                if ui
                    .button("Reset layout")
                    .on_hover_text("Forget the panel sizes and show every panel again, as on a first launch")
                    .clicked()
                {
                    intents.push(Intent::ResetLayout);
                }
            });
        });
        if modal.should_close() && intents.is_empty() {
            intents.push(Intent::ToggleHelp);
        }
        intents
    }
}

fn shortcuts_ui(ui: &mut Ui) {
    egui::Grid::new("shortcuts").num_columns(2).spacing([24.0, 6.0]).show(ui, |ui| {
        let lines = SHORTCUTS.iter().map(|shortcut| (shortcut.keys_text, shortcut.action_text));
        for (keys, action) in lines.chain([LESSON_KEYS_TEXT]) {
            ui.label(RichText::new(keys).monospace().strong());
            ui.label(action);
            ui.end_row();
        }
    });
}
