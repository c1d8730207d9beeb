//! Banners above the network view: the run diverged, the trainer died, or a whole layer is
//! dead. Each says what happened in plain words and offers the way out.

use egui::{Color32, RichText, Ui};

use super::shared::Intent;
use super::top_bar::{RunStatus, named_button};
use super::trainer_link::DivergedRun;
use crate::train::remedy::remedy_for;
use crate::train::{SessionCommand, WorkerCommand};

/// The banner for the run's state, if it needs one.
pub(super) struct Banner<'a> {
    /// The trainer's status.
    pub status: &'a RunStatus,
    /// While diverged: where "go back" lands, the settings it diverged under, and whether the
    /// run was changed since.
    pub diverged: Option<&'a DivergedRun>,
    /// Some hidden layer is dead on every input.
    pub is_collapsed: bool,
}

const ALARM: Color32 = Color32::from_rgb(190, 40, 40);
const CAUTION: Color32 = Color32::from_rgb(150, 95, 0);

fn frame_ui(ui: &mut Ui, fill: Color32, add_contents: impl FnOnce(&mut Ui)) {
    egui::Frame::new().fill(fill).corner_radius(6.0).inner_margin(10.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.visuals_mut().override_text_color = Some(Color32::WHITE);
        ui.horizontal_wrapped(add_contents);
    });
}

impl Banner<'_> {
    /// Draws the banner, if any, and returns what the user asked for.
    pub(super) fn ui(&self, ui: &mut Ui) -> Vec<Intent> {
        let Self { status, diverged, is_collapsed } = *self;
        let mut intents = Vec::new();
        match status {
            RunStatus::Diverged { step, reason } => frame_ui(ui, ALARM, |ui| {
                intents = diverged_ui(ui, *step, reason, diverged);
            }),
            RunStatus::WorkerDied(message) => frame_ui(ui, ALARM, |ui| {
                ui.label(RichText::new("The trainer stopped.").strong());
                ui.label(message.as_str());
                if ui.button("Restart trainer").on_hover_text("Start the trainer again on this lesson").clicked() {
                    intents.push(Intent::RestartWorker);
                }
            }),
            _ if is_collapsed => frame_ui(ui, CAUTION, |ui| {
                ui.label(RichText::new("A whole layer is dead:").strong());
                ui.label(
                    "it outputs 0 on every training input, so the output is a constant and no layer below it gets a \
                     gradient.",
                );
                if ui.button("Revive dead neurons").on_hover_text("Redraw the weights of every dead neuron").clicked() {
                    intents.push(Intent::Trainer(WorkerCommand::Session(SessionCommand::ReviveDead)));
                }
            }),
            _ => {}
        }
        intents
    }
}

/// The divergence: what happened, the measured way out (go back to the last checkpoint that
/// trained, with the change that works for this activation, and why), and Reset.
fn diverged_ui(ui: &mut Ui, step: u64, reason: &str, diverged: Option<&DivergedRun>) -> Vec<Intent> {
    let mut intents = Vec::new();
    ui.label(RichText::new(format!("The run diverged at step {step}: {reason}.")).strong());
    let is_changed_since = diverged.is_some_and(|diverged| diverged.is_changed_since);
    if is_changed_since {
        ui.label(
            "You changed the run after it diverged, but its weights are still the ones that overflowed: Play tries \
             them again, going back starts from the last checkpoint that trained.",
        );
    }
    let way_back = diverged.and_then(|diverged| Some((diverged.rewind_step?, diverged.config.as_ref()?)));
    match way_back {
        Some((back, config)) => {
            let remedy = remedy_for(config);
            let action = remedy.action(config);
            if !is_changed_since {
                ui.label("Training stopped; nothing is lost.");
            }
            ui.label(remedy.reason(config.network.activation));
            let text = format!("Go back to step {back} and {}", with_verb(&action));
            if named_button(ui, RichText::new(text).strong(), "Go back before the divergence", true)
                .on_hover_text(format!(
                    "Restore the network as it was at step {back}, the last checkpoint before the divergence (the \
                     history after it is dropped), {action} and train on"
                ))
                .clicked()
            {
                intents.extend(remedy.worker_commands(config, back).into_iter().map(Intent::Trainer));
            }
        }
        None => {
            ui.label("Training stopped. There is no checkpoint before the divergence to go back to.");
        }
    }
    if named_button(ui, "Reset", "Reset the diverged run", true)
        .on_hover_text("Start over from a fresh network with the same settings")
        .clicked()
    {
        intents.push(Intent::Trainer(WorkerCommand::Session(SessionCommand::Reset { seed: None })));
        intents.push(Intent::Trainer(WorkerCommand::Resume));
    }
    intents
}

/// "learning rate 0.3" → "set the learning rate to 0.3"; an action that starts with a verb
/// stays as it is.
fn with_verb(action: &str) -> String {
    match action.strip_prefix("learning rate ") {
        Some(rate) => format!("set the learning rate to {rate}"),
        None => action.to_owned(),
    }
}

/// Veils a view of the diverged network (its tiles and output) and says so, so that the
/// pictures of weights that overflowed never pass for a healthy network.
pub(super) fn paint_diverged_veil(ui: &Ui, rect: egui::Rect, step: u64) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, ui.visuals().panel_fill.gamma_multiply(0.72));
    let font = egui::TextStyle::Heading.resolve(ui.style());
    let text = format!("Diverged at step {step}: these are the weights that overflowed");
    let galley = painter.layout(text, font, Color32::WHITE, rect.width() - 24.0);
    let plate = egui::Rect::from_center_size(rect.center(), galley.size() + egui::vec2(20.0, 12.0));
    painter.rect_filled(plate, 6.0, ALARM);
    let words = galley.text().to_owned();
    painter.galley(plate.min + egui::vec2(10.0, 6.0), galley, Color32::WHITE);
    // What a screen reader (and a test) reads over the veiled view.
    let response = ui.interact(plate, ui.scope_id().with(("diverged veil", rect.min.x as i32)), egui::Sense::hover());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &words));
}
