//! Banners above the network view: the run diverged, the trainer died, or a whole layer is
//! dead. Each says what happened in plain words and offers the way out.

use egui::{Color32, RichText, Ui};

use super::shared::Intent;
use super::top_bar::{RunStatus, named_button};
use crate::train::{SessionCommand, Target, WorkerCommand};

/// The banner for the run's state, if it needs one.
pub(super) struct Banner<'a> {
    /// The trainer's status.
    pub status: &'a RunStatus,
    /// The base learning rate in force.
    pub learning_rate: f64,
    /// The newest checkpoint at or before the divergence, if the run diverged.
    pub rewind_step: Option<u64>,
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
        let Self { status, learning_rate, rewind_step, is_collapsed } = *self;
        let mut intents = Vec::new();
        let trainer = |command| Intent::Trainer(command);
        match status {
            RunStatus::Diverged { step, reason } => frame_ui(ui, ALARM, |ui| {
                ui.label(RichText::new(format!("The run diverged at step {step}: {reason}.")).strong());
                // Divided, not multiplied by 0.1: 3 / 10 is exactly the 0.3 a user types.
                let lower = (learning_rate / 10.0).max(crate::app::controls_panel::MIN_LEARNING_RATE);
                let lower_text = crate::train::settings::short(lower);
                if let Some(back) = rewind_step {
                    ui.label("Training stopped; nothing is lost. Go back to a checkpoint and train on more gently:");
                    let text = format!("Go back to step {back}, learning rate {lower_text}");
                    if named_button(ui, &text, "Go back before the divergence", true)
                        .on_hover_text(format!(
                            "Restore the network as it was at step {back} (the history after it is dropped), set the \
                             learning rate to {lower_text} and train on"
                        ))
                        .clicked()
                    {
                        let then = vec![SessionCommand::SetLearningRate { learning_rate: lower }];
                        intents.push(trainer(WorkerCommand::Rewind { step: back, then, target: Target::Both }));
                        intents.push(trainer(WorkerCommand::Resume));
                    }
                } else {
                    ui.label("Training stopped. A smaller learning rate takes smaller steps.");
                }
                if named_button(ui, "Reset", "Reset the diverged run", true)
                    .on_hover_text("Start over from a fresh network with the same settings")
                    .clicked()
                {
                    intents.push(trainer(WorkerCommand::Session(SessionCommand::Reset { seed: None })));
                    intents.push(trainer(WorkerCommand::Resume));
                }
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
                    intents.push(trainer(WorkerCommand::Session(SessionCommand::ReviveDead)));
                }
            }),
            _ => {}
        }
        intents
    }
}
