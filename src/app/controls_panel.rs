//! The controls: everything that changes the run. Live settings change the network while it
//! trains; the "on reset" settings start a new network. Each change becomes a trainer intent.

use egui::{ComboBox, DragValue, Slider, Ui};

use super::number_field::NumberField;
use super::shared::Intent;
use super::top_bar;
use crate::data::{DatasetKind, MAX_NOISE};
use crate::nn::{ActivationKind, Decay, Init, OptimizerKind};
use crate::train::config::check_learning_rate;
use crate::train::config::{MAX_HIDDEN_LAYERS, MAX_WIDTH, OptimizerName};
use crate::train::settings::short;
use crate::train::{RunConfig, SessionCommand, Snapshot, WorkerCommand};

/// The smallest learning rate the slider offers.
pub(super) const MIN_LEARNING_RATE: f64 = 1e-5;
/// The largest learning rate the slider offers.
pub(super) const MAX_SLIDER_LEARNING_RATE: f64 = 10.0;
/// The bias sliders' range, both ways.
pub(super) const BIAS_RANGE: f64 = 5.0;
/// Leaky ReLU's slope slider stops here: beyond it the "leak" stops being a small one.
const MAX_LEAKY_SLOPE: f64 = 0.5;
/// The largest batch the slider offers.
const MAX_BATCH_SIZE: usize = 256;
/// The widest layer the +/- buttons make (the config allows more).
const MAX_BUTTON_WIDTH: usize = 32;

/// The controls panel. It shows a draft of the run's settings: the draft follows the trainer's
/// config, except while the user is changing a value.
#[derive(Debug, Default)]
pub(super) struct ControlsPanel {
    /// The values shown.
    draft: RunConfig,
    /// The trainer's config the draft was last copied from.
    synced_from: Option<RunConfig>,
}

/// A slider with its name on the line above it (so a long name is never cut off), tied to the
/// slider for screen readers and tests.
fn slider_row(ui: &mut Ui, name: &str, slider: Slider<'_>) -> egui::Response {
    let label = ui.label(name);
    // Leave room for the value box at the current text size; a fixed reserve made the row
    // wider than the panel in presentation mode, and the panel grew every frame to fit it.
    let spacing = ui.spacing();
    let value_box = ui.text_style_height(&egui::TextStyle::Body) * 4.5 + 2.0 * spacing.button_padding.x;
    let reserve = value_box + spacing.item_spacing.x + 4.0;
    ui.spacing_mut().slider_width = (ui.available_width() - reserve).max(60.0);
    ui.add(slider).labelled_by(label.id)
}

/// Whether a slider's new value should go to the trainer now: when a drag ends, or at once
/// for a change made without dragging (a click, the keyboard, a screen reader).
fn is_committed(response: &egui::Response) -> bool {
    response.drag_stopped() || (response.changed() && !response.dragged())
}

fn session(command: SessionCommand) -> Intent {
    Intent::Trainer(WorkerCommand::Session(command))
}

impl ControlsPanel {
    /// Copies the trainer's config into the draft at the next frame, even if it did not
    /// change (after the trainer refused a command, the draft is wrong).
    pub(super) fn resync(&mut self) {
        self.synced_from = None;
    }

    /// Draws the controls for the run in `snapshot` and returns the changes asked for.
    /// `presentation` collapses the less used sections.
    pub(super) fn ui(&mut self, ui: &mut Ui, snapshot: Option<&Snapshot>, presentation: bool) -> Vec<Intent> {
        if let Some(snapshot) = snapshot
            && self.synced_from.as_ref() != Some(&snapshot.config)
        {
            self.draft = snapshot.config.clone();
            self.synced_from = Some(snapshot.config.clone());
        }
        let mut intents = Vec::new();
        ui.add_enabled_ui(snapshot.is_some(), |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                let in_force = snapshot.map(|snapshot| snapshot.evaluation.learning_rate);
                self.live_ui(ui, in_force, &mut intents);
                ui.separator();
                self.training_ui(ui, presentation, &mut intents);
                self.data_ui(ui, presentation, &mut intents);
                self.network_ui(ui, presentation, &mut intents);
            });
        });
        intents
    }

    /// Learning rate, bias offset and activation: the settings a lesson plays with.
    fn live_ui(&mut self, ui: &mut Ui, learning_rate_in_force: Option<f64>, intents: &mut Vec<Intent>) {
        let Self { draft, .. } = self;
        ui.heading("Live settings");
        learning_rate_ui(ui, &mut draft.training.learning_rate, learning_rate_in_force, intents);
        bias_offset_ui(ui, &mut draft.network.bias_offset, intents);
        let mut kind = draft.network.activation;
        ComboBox::from_label("Activation")
            .selected_text(kind.label())
            .show_ui(ui, |ui| {
                for option in ActivationKind::ALL {
                    ui.selectable_value(&mut kind, option, option.label());
                }
            })
            .response
            .on_hover_text(
                "The function every hidden neuron applies to its input, switched live with the weights kept. \
                 Leaky ReLU, PReLU and ELU keep a gradient below zero, so a neuron there can climb back; GELU and \
                 SiLU go flat far below zero. Switching after damage is a shock: the dead neurons' large \
                 negative inputs suddenly pass through.",
            );
        if kind != draft.network.activation {
            draft.network.activation = kind;
            draft.network.activation_parameter = None;
            intents.push(session(SessionCommand::SetActivation { activation: kind.with_default_parameter() }));
        }
        if let Some(spec) = kind.parameter() {
            let max = if kind == ActivationKind::LeakyRelu { MAX_LEAKY_SLOPE } else { spec.max };
            let mut value = draft.network.activation_parameter.unwrap_or(spec.default);
            let name = format!("{} {}", kind.label(), spec.name);
            let response = slider_row(ui, &name, Slider::new(&mut value, spec.min..=max)).on_hover_text(
                "The activation's own setting: the slope (or ELU's floor) below zero. At 0, Leaky ReLU and ELU \
                 are plain ReLU again and neurons can die; PReLU still learns its slope.",
            );
            draft.network.activation_parameter = Some(value);
            if is_committed(&response) {
                intents.push(session(SessionCommand::SetActivation { activation: kind.with_parameter(value) }));
            }
        }
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Revive dead neurons")
                .on_hover_text(
                    "Redraws the incoming weights and bias of every dead neuron, as a new network would draw them.",
                )
                .clicked()
            {
                intents.push(session(SessionCommand::ReviveDead));
            }
            if top_bar::named_button(ui, "↶ Undo", "Undo", true)
                .on_hover_text("Sets back the last change of a setting (Ctrl+Z); the replay of the run does the same")
                .clicked()
            {
                intents.push(session(SessionCommand::Undo));
            }
        });
    }

    /// Optimizer, batch size and learning-rate decay.
    fn training_ui(&mut self, ui: &mut Ui, presentation: bool, intents: &mut Vec<Intent>) {
        let Self { draft, .. } = self;
        egui::CollapsingHeader::new("Training").id_salt(("training", presentation)).default_open(!presentation).show(
            ui,
            |ui| {
                let mut optimizer = draft.training.optimizer;
                let label = |name: OptimizerName| match name {
                    OptimizerName::Sgd => "SGD",
                    OptimizerName::Momentum => "SGD + momentum",
                    OptimizerName::Adam => "Adam",
                };
                ComboBox::from_label("Optimizer")
                    .selected_text(label(optimizer))
                    .show_ui(ui, |ui| {
                        for option in [OptimizerName::Sgd, OptimizerName::Momentum, OptimizerName::Adam] {
                            ui.selectable_value(&mut optimizer, option, label(option));
                        }
                    })
                    .response
                    .on_hover_text(
                        "How gradients become updates. Momentum and Adam remember past gradients, so a neuron \
                         that just died still moves for a while and may come back; under plain SGD a dead neuron \
                         in layer 1 never moves again.",
                    );
                if optimizer != draft.training.optimizer {
                    draft.training.optimizer = optimizer;
                    let kind = match optimizer {
                        OptimizerName::Sgd => OptimizerKind::Sgd,
                        OptimizerName::Momentum => OptimizerKind::Momentum { momentum: draft.training.momentum },
                        OptimizerName::Adam => OptimizerKind::ADAM,
                    };
                    intents.push(session(SessionCommand::SetOptimizer { optimizer: kind }));
                }
                let max_batch = draft.data.train_points().clamp(1, MAX_BATCH_SIZE);
                let batch = slider_row(
                    ui,
                    "Batch size",
                    Slider::new(&mut draft.training.batch_size, 1..=max_batch).logarithmic(true),
                )
                .on_hover_text(
                    "Examples averaged per step. Small batches give noisy steps that can knock a neuron \
                         off; large ones give smoother, slower ones.",
                );
                if is_committed(&batch) {
                    intents.push(session(SessionCommand::SetBatchSize { batch_size: draft.training.batch_size }));
                }
                decay_ui(ui, &mut draft.training.decay, intents);
                clipping_ui(ui, &mut draft.training.clip_gradient_norm, intents);
            },
        );
    }

    /// Dataset, noise and split.
    fn data_ui(&mut self, ui: &mut Ui, presentation: bool, intents: &mut Vec<Intent>) {
        let Self { draft, .. } = self;
        egui::CollapsingHeader::new("Data").id_salt(("data", presentation)).default_open(!presentation).show(
            ui,
            |ui| {
                let mut dataset = draft.data.dataset;
                ComboBox::from_label("Dataset")
                    .selected_text(dataset.label())
                    .show_ui(ui, |ui| {
                        for option in DatasetKind::ALL {
                            ui.selectable_value(&mut dataset, option, option.label());
                        }
                    })
                    .response
                    .on_hover_text(
                        "What the network learns. 2-D sets are classified; 1-D sets are fitted as a curve \
                         (switching between the two starts a new network).",
                    );
                let mut is_changed = false;
                if dataset != draft.data.dataset {
                    let needs_new_network = dataset.input_size() != draft.data.dataset.input_size();
                    draft.data.dataset = dataset;
                    if needs_new_network {
                        let mut config = draft.clone();
                        config.training.batch_size = config.training.batch_size.min(config.data.train_points());
                        intents.push(Intent::Trainer(WorkerCommand::Load(Box::new(config))));
                    } else {
                        is_changed = true;
                    }
                }
                let noise = slider_row(ui, "Noise", Slider::new(&mut draft.data.noise, 0.0..=MAX_NOISE))
                    .on_hover_text("Jitters the points: the boundary gets harder to fit.");
                let split = slider_row(ui, "Training fraction", Slider::new(&mut draft.data.train_fraction, 0.1..=0.9))
                    .on_hover_text(
                        "The share of points the network trains on; the rest are the test set. A neuron is \
                         judged dead on the training points.",
                    );
                is_changed |= is_committed(&noise) || is_committed(&split);
                if is_changed {
                    intents.push(session(SessionCommand::SetData { data: draft.data }));
                }
            },
        );
    }

    /// Architecture, init, initial bias and seed: each starts a new network.
    fn network_ui(&mut self, ui: &mut Ui, presentation: bool, intents: &mut Vec<Intent>) {
        let Self { draft, .. } = self;
        egui::CollapsingHeader::new("Network (on reset)")
            .id_salt(("network", presentation))
            .default_open(!presentation)
            .show(ui, |ui| {
                ui.label(egui::RichText::new("Changes here start a new network.").weak());
                architecture_ui(ui, &mut draft.network.hidden_layers, intents);
                let mut init = draft.network.init;
                ComboBox::from_label("Init (on reset)")
                    .selected_text(init.label())
                    .show_ui(ui, |ui| {
                        for option in Init::ALL {
                            ui.selectable_value(&mut init, option, option.label());
                        }
                    })
                    .response
                    .on_hover_text(
                        "How the starting weights are drawn. In deep narrow nets symmetric inits (He) often \
                         give birth to a dead layer; RAI's asymmetric draw rarely does.",
                    );
                if init != draft.network.init {
                    draft.network.init = init;
                    intents.push(session(SessionCommand::SetInit { init }));
                }
                let bias = slider_row(
                    ui,
                    "Initial bias (on reset)",
                    Slider::new(&mut draft.network.initial_bias, -BIAS_RANGE..=BIAS_RANGE),
                )
                .on_hover_text(
                    "Where every hidden bias starts in a new network. Very negative and most ReLU neurons \
                         are born dead.",
                );
                if is_committed(&bias) {
                    intents.push(session(SessionCommand::SetInitialBias { initial_bias: draft.network.initial_bias }));
                }
                ui.horizontal(|ui| {
                    let label = ui.label("Seed");
                    let seed = ui.add(DragValue::new(&mut draft.seed).speed(0.2)).labelled_by(label.id).on_hover_text(
                        "Seeds the data, the starting weights and the batch order: the same seed gives the same run.",
                    );
                    if is_committed(&seed) {
                        intents.push(session(SessionCommand::Reset { seed: Some(draft.seed) }));
                    }
                    if ui
                        .button("New seed")
                        .on_hover_text("A new network from the next seed: a different draw of starting weights.")
                        .clicked()
                    {
                        draft.seed = draft.seed.wrapping_add(1);
                        intents.push(session(SessionCommand::Reset { seed: Some(draft.seed) }));
                    }
                });
            });
    }
}

/// The learning rates the list offers and the slider stops at (TensorFlow Playground's).
pub(super) const ROUND_LEARNING_RATES: [f64; 11] =
    [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0];
/// The bias offset's slider step; with Shift held, a tenth of it.
const BIAS_STEP: f64 = 0.1;

/// The round learning rate nearest to `rate` on a log scale.
pub(super) fn nearest_round_rate(rate: f64) -> f64 {
    let distance = |round: f64| (round.ln() - rate.max(f64::MIN_POSITIVE).ln()).abs();
    ROUND_LEARNING_RATES.into_iter().min_by(|a, b| distance(*a).total_cmp(&distance(*b))).unwrap_or(rate)
}

/// The learning rate: a field to type it (sent on Enter), a list of round values, a slider
/// that stops at them, and the rate in force under decay.
fn learning_rate_ui(ui: &mut Ui, rate: &mut f64, in_force: Option<f64>, intents: &mut Vec<Intent>) {
    let tooltip = "How far each step moves the weights. Too high and one big step can push a ReLU neuron's \
                   input below zero on every training point: it dies.";
    let mut chosen = None;
    let label_id = ui.horizontal(|ui| {
        let label = ui.label("Learning rate").on_hover_text(tooltip);
        let field = NumberField {
            id: "learning_rate",
            labelled_by: label.id,
            value: *rate,
            width: ui.text_style_height(&egui::TextStyle::Body) * 4.0,
            format: |value| short(value),
            accepts: |value| check_learning_rate(value).is_ok(),
        };
        chosen = field.ui(ui);
        let list = ComboBox::from_id_salt("learning_rate_list").selected_text("").width(16.0).show_ui(ui, |ui| {
            for option in ROUND_LEARNING_RATES {
                if ui.selectable_label(*rate == option, short(option)).clicked() {
                    chosen = Some(option);
                }
            }
        });
        let list = list.response.on_hover_text("Round learning rates");
        list.widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Round learning rates"));
        label.id
    });
    let mut position = *rate;
    let slider =
        stop_slider(ui, Slider::new(&mut position, MIN_LEARNING_RATE..=MAX_SLIDER_LEARNING_RATE).logarithmic(true))
            .labelled_by(label_id.inner)
            .on_hover_text(tooltip);
    if let Some(stepped) = arrow_step(ui, &slider, *rate) {
        chosen = Some(stepped);
    } else if slider.changed() {
        *rate = nearest_round_rate(position);
        if !slider.dragged() {
            chosen = Some(*rate);
        }
    }
    if slider.drag_stopped() {
        chosen = Some(*rate);
    }
    if let Some(in_force) = in_force.filter(|in_force| (in_force - *rate).abs() > 1e-12 * rate.abs()) {
        ui.label(egui::RichText::new(format!("in force now: {} (decaying)", short(in_force))).weak())
            .on_hover_text("The decay schedule scales the rate set above; this is the rate the next step uses.");
    }
    if let Some(value) = chosen {
        *rate = value;
        intents.push(session(SessionCommand::SetLearningRate { learning_rate: value }));
    }
}

/// The round rate one stop above or below `rate` when an arrow key was pressed on the focused
/// slider.
fn arrow_step(ui: &Ui, slider: &egui::Response, rate: f64) -> Option<f64> {
    if !slider.has_focus() {
        return None;
    }
    let (up, down) = ui.input(|input| {
        (
            input.key_pressed(egui::Key::ArrowRight) || input.key_pressed(egui::Key::ArrowUp),
            input.key_pressed(egui::Key::ArrowLeft) || input.key_pressed(egui::Key::ArrowDown),
        )
    });
    let index = ROUND_LEARNING_RATES.iter().position(|&round| round == nearest_round_rate(rate))?;
    let stepped = match (up, down) {
        (true, false) => index.checked_add(1).filter(|&next| next < ROUND_LEARNING_RATES.len())?,
        (false, true) => index.checked_sub(1)?,
        _ => return None,
    };
    Some(ROUND_LEARNING_RATES[stepped])
}

/// A slider as wide as the panel, without its own value box (the field beside the name shows
/// and takes the value).
fn stop_slider(ui: &mut Ui, slider: Slider<'_>) -> egui::Response {
    ui.spacing_mut().slider_width = (ui.available_width() - 8.0).max(60.0);
    ui.add(slider.show_value(false))
}

/// The bias offset: a field (sent on Enter) and a slider in steps of 0.1 (0.01 with Shift).
fn bias_offset_ui(ui: &mut Ui, offset: &mut f64, intents: &mut Vec<Intent>) {
    let tooltip = "Shifts every hidden neuron's bias, live. Far negative switches ReLU neurons off on every \
                   training input (dead); pulling it back up can revive them. Hold Shift for steps of 0.01.";
    let mut chosen = None;
    let label_id = ui.horizontal(|ui| {
        let label = ui.label("Bias offset").on_hover_text(tooltip);
        let field = NumberField {
            id: "bias_offset",
            labelled_by: label.id,
            value: *offset,
            width: ui.text_style_height(&egui::TextStyle::Body) * 4.0,
            format: |value| format!("{value:.2}"),
            accepts: |value| value.abs() <= BIAS_RANGE,
        };
        chosen = field.ui(ui);
        label.id
    });
    let is_fine = ui.input(|input| input.modifiers.shift);
    let step = if is_fine { BIAS_STEP / 10.0 } else { BIAS_STEP };
    let slider = stop_slider(ui, Slider::new(offset, -BIAS_RANGE..=BIAS_RANGE).step_by(step))
        .labelled_by(label_id.inner)
        .on_hover_text(tooltip);
    if is_committed(&slider) {
        chosen = Some(*offset);
    }
    if let Some(value) = chosen {
        *offset = value;
        intents.push(session(SessionCommand::SetBiasOffset { bias_offset: value }));
    }
}

/// The clipping norm a switch turns on at.
const DEFAULT_CLIP_NORM: f64 = 1.0;

/// Gradient-norm clipping: a switch, and the norm when it is on.
fn clipping_ui(ui: &mut Ui, clip: &mut Option<f64>, intents: &mut Vec<Intent>) {
    let mut is_on = clip.is_some();
    let switch = ui.checkbox(&mut is_on, "Clip the gradient").on_hover_text(
        "Before each update, a gradient longer than the norm below is shortened to that length. It keeps a \
         high learning rate from blowing the weights up (lesson 11); it does not stop a neuron dying.",
    );
    if switch.changed() {
        *clip = is_on.then_some(clip.unwrap_or(DEFAULT_CLIP_NORM));
        intents.push(session(SessionCommand::SetGradientClipping { max_norm: *clip }));
    }
    if let Some(norm) = clip {
        let slider = slider_row(ui, "Clip at norm", Slider::new(norm, 0.01..=100.0).logarithmic(true))
            .on_hover_text("The longest the gradient of all weights together may be.");
        if is_committed(&slider) {
            intents.push(session(SessionCommand::SetGradientClipping { max_norm: Some(*norm) }));
        }
    }
}

/// The decay schedule: a choice of kind and its one parameter.
fn decay_ui(ui: &mut Ui, decay: &mut Decay, intents: &mut Vec<Intent>) {
    const KINDS: [&str; 3] = ["None", "Step", "Exponential"];
    let index = match decay {
        Decay::None => 0,
        Decay::Step { .. } => 1,
        Decay::Exponential { .. } => 2,
    };
    let mut chosen = index;
    ComboBox::from_label("Learning-rate decay")
        .selected_text(KINDS[index])
        .show_ui(ui, |ui| {
            for (option, name) in KINDS.iter().enumerate() {
                ui.selectable_value(&mut chosen, option, *name);
            }
        })
        .response
        .on_hover_text(
            "Shrinks the learning rate as training goes on: big steps early, small ones later, so fewer \
             neurons are knocked dead.",
        );
    let mut is_changed = chosen != index;
    if is_changed {
        *decay = match chosen {
            1 => Decay::Step { every_steps: 1000, factor: 0.5 },
            2 => Decay::Exponential { half_life_steps: 1500.0 },
            _ => Decay::None,
        };
    }
    match decay {
        Decay::None => {}
        Decay::Step { every_steps, factor } => {
            let every = slider_row(ui, "Steps between drops", Slider::new(every_steps, 10..=20_000).logarithmic(true))
                .on_hover_text("How many steps pass between two drops of the learning rate.");
            let factor = slider_row(ui, "Drop factor", Slider::new(factor, 0.05..=1.0))
                .on_hover_text("Each drop multiplies the learning rate by this.");
            is_changed |= is_committed(&every) || is_committed(&factor);
        }
        Decay::Exponential { half_life_steps } => {
            let half_life =
                slider_row(ui, "Half-life (steps)", Slider::new(half_life_steps, 10.0..=50_000.0).logarithmic(true))
                    .on_hover_text("The learning rate halves smoothly every this many steps.");
            is_changed |= is_committed(&half_life);
        }
    }
    if is_changed {
        intents.push(session(SessionCommand::SetDecay { decay: *decay }));
    }
}

/// A small button whose accessible name says what it does (its face may be a single sign).
fn small_button(ui: &mut Ui, face: &str, name: &str, is_enabled: bool, tooltip: &str) -> bool {
    let response = ui.add_enabled(is_enabled, egui::Button::new(face).min_size(egui::vec2(28.0, 0.0)));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, is_enabled, name));
    response.on_hover_text(tooltip).clicked()
}

/// One row per hidden layer with -/+ buttons, and buttons to add or remove a layer.
fn architecture_ui(ui: &mut Ui, hidden_layers: &mut Vec<usize>, intents: &mut Vec<Intent>) {
    let before = hidden_layers.clone();
    let mut removed = None;
    let max_width = MAX_BUTTON_WIDTH.min(MAX_WIDTH);
    for (index, width) in hidden_layers.iter_mut().enumerate() {
        let number = index + 1;
        ui.horizontal(|ui| {
            ui.label(format!("Layer {number}"));
            if small_button(
                ui,
                "−",
                &format!("Fewer neurons in layer {number}"),
                *width > 1,
                "One neuron fewer in this layer (a new network)",
            ) {
                *width -= 1;
            }
            ui.label(format!("{width:>2}"));
            if small_button(
                ui,
                "+",
                &format!("More neurons in layer {number}"),
                *width < max_width,
                "One neuron more in this layer (a new network)",
            ) {
                *width += 1;
            }
            if small_button(
                ui,
                "✖",
                &format!("Remove layer {number}"),
                before.len() > 1,
                "Removes this layer (a new network)",
            ) {
                removed = Some(index);
            }
        });
    }
    if let Some(index) = removed {
        hidden_layers.remove(index);
    }
    if ui
        .add_enabled(hidden_layers.len() < MAX_HIDDEN_LAYERS, egui::Button::new("Add layer"))
        .on_hover_text(
            "Adds a hidden layer as wide as the last one (a new network). Deep narrow ReLU nets are often born dead.",
        )
        .clicked()
    {
        let width = hidden_layers.last().copied().unwrap_or(8);
        hidden_layers.push(width);
    }
    if *hidden_layers != before {
        intents.push(session(SessionCommand::SetArchitecture { hidden_layers: hidden_layers.clone() }));
    }
}
