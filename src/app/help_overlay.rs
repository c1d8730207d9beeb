//! The keyboard help: a small window listing the shortcuts.

use egui::{RichText, Ui};

use super::shared::Intent;

/// Every shortcut and what it does.
pub(super) const SHORTCUTS: [(&str, &str); 6] = [
    ("Space", "Play / pause"),
    ("→", "One training step"),
    ("R", "Reset the network"),
    ("1 – 9, 0", "Open lesson 1 – 10"),
    ("F", "Presentation mode"),
    ("?", "Show or hide this help"),
];

/// Draws the help as a modal window over the app; returns [`Intent::ToggleHelp`] when closed.
pub(super) fn show(ctx: &egui::Context, frames_per_second: usize) -> Vec<Intent> {
    let mut intents = Vec::new();
    let modal = egui::Modal::new(egui::Id::unique("keyboard_help")).show(ctx, |ui| {
        ui.heading("Keyboard shortcuts");
        ui.add_space(6.0);
        shortcuts_ui(ui);
        ui.add_space(8.0);
        ui.weak(format!("Drawing at {frames_per_second} frames per second (none while paused)."));
        ui.add_space(8.0);
        if ui.button("Close help").clicked() {
            intents.push(Intent::ToggleHelp);
        }
    });
    if modal.should_close() && intents.is_empty() {
        intents.push(Intent::ToggleHelp);
    }
    intents
}

fn shortcuts_ui(ui: &mut Ui) {
    egui::Grid::new("shortcuts").num_columns(2).spacing([24.0, 6.0]).show(ui, |ui| {
        for (key, action) in SHORTCUTS {
            ui.label(RichText::new(key).monospace().strong());
            ui.label(action);
            ui.end_row();
        }
    });
}
