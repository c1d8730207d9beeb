//! The synchronous, deterministic training session: `step`, `apply` a command, `evaluate`.
//! The worker thread and the command line drive the same code.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::command::{Annotation, Divergence, DivergenceCause, SessionCommand, StampedCommand};
use super::config::{ConfigError, RunConfig, validate_decay};
use super::record::RunRecord;
use crate::data::Dataset;
use crate::nn::diagnostics::diagnose;
use crate::nn::{Activation, Gradients, Loss, Mlp, NetworkDiagnostics, NeuronState, Optimizer, Workspace};

/// The random streams of one seed, kept apart so that one part's draws never shift another's.
#[derive(Clone, Copy, Debug)]
enum Stream {
    Data = 1,
    Init = 2,
    Batches = 3,
    Revive = 4,
}

fn stream_rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream as u64);
    rng
}

/// What one call to [`Session::step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepOutcome {
    /// One update was made; the batch loss before it.
    Trained {
        /// The mean loss over the batch.
        batch_loss: f32,
    },
    /// The run has diverged and makes no more steps until a command changes it.
    Diverged(Divergence),
}

/// A command that was refused, with the reason. Nothing was changed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

impl From<ConfigError> for CommandError {
    fn from(error: ConfigError) -> Self {
        Self(error.to_string())
    }
}

/// The numbers of one reporting interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Steps made.
    pub step: u64,
    /// Passes over the training set.
    pub epoch: f64,
    /// The learning rate in force (after decay).
    pub learning_rate: f64,
    /// Mean loss over the training set.
    pub train_loss: f64,
    /// Mean loss over the test set.
    pub test_loss: f64,
    /// Share of training points classified right (classification only).
    pub train_accuracy: Option<f64>,
    /// Share of test points classified right (classification only).
    pub test_accuracy: Option<f64>,
    /// Per-neuron states and per-layer gradient norms over the training set.
    pub diagnostics: NetworkDiagnostics,
}

/// One training run: data, network, optimizer and the bookkeeping that makes it replayable.
#[derive(Clone, Debug)]
pub struct Session {
    config: RunConfig,
    data: Dataset,
    mlp: Mlp<f32>,
    optimizer: Optimizer<f32>,
    workspace: Workspace<f32>,
    gradients: Gradients<f32>,
    probe_workspace: Workspace<f32>,
    probe_gradients: Gradients<f32>,
    test_workspace: Workspace<f32>,
    batch_inputs: Array2<f32>,
    batch_targets: Array2<f32>,
    order: Vec<usize>,
    cursor: usize,
    batch_rng: ChaCha8Rng,
    revive_rng: ChaCha8Rng,
    step: u64,
    learning_rate_set_at: u64,
    divergence: Option<Divergence>,
    record: RunRecord,
    network_generation: u64,
    data_generation: u64,
}

impl Session {
    /// A fresh session for `config`, which must be valid.
    pub fn new(config: RunConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let data = Dataset::generate(config.data.spec(), &mut stream_rng(config.seed, Stream::Data));
        let mlp = Self::build_network(&config);
        let batch = config.training.batch_size.min(data.train_len());
        let mut session = Self {
            optimizer: Optimizer::new(config.training.optimizer_kind(), &mlp),
            workspace: Workspace::new(&mlp, batch),
            gradients: Gradients::zeros_like(&mlp),
            probe_workspace: Workspace::new(&mlp, data.train_len()),
            probe_gradients: Gradients::zeros_like(&mlp),
            test_workspace: Workspace::new(&mlp, data.test_inputs.nrows()),
            batch_inputs: Array2::zeros((batch, data.train_inputs.ncols())),
            batch_targets: Array2::zeros((batch, 1)),
            order: Vec::new(),
            cursor: 0,
            batch_rng: stream_rng(config.seed, Stream::Batches),
            revive_rng: stream_rng(config.seed, Stream::Revive),
            step: 0,
            learning_rate_set_at: 0,
            divergence: None,
            record: RunRecord::new(config.clone()),
            network_generation: 0,
            data_generation: 0,
            mlp,
            data,
            config,
        };
        session.reshuffle();
        Ok(session)
    }

    fn build_network(config: &RunConfig) -> Mlp<f32> {
        let network = &config.network;
        let mut mlp = Mlp::new(
            &config.layer_sizes(),
            network.activation(),
            network.init,
            network.initial_bias,
            &mut stream_rng(config.seed, Stream::Init),
        );
        add_to_hidden_biases(&mut mlp, network.bias_offset);
        mlp
    }

    /// The current settings (the config updated by every command since).
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The network.
    pub fn network(&self) -> &Mlp<f32> {
        &self.mlp
    }

    /// The data.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// Steps made since the network was built.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// Passes over the training set so far.
    pub fn epoch(&self) -> f64 {
        self.step as f64 * self.batch_inputs.nrows() as f64 / self.data.train_len().max(1) as f64
    }

    /// The divergence that stopped the run, if any.
    pub fn divergence(&self) -> Option<Divergence> {
        self.divergence
    }

    /// The replayable record of this run: its starting config and every command since.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// The loss this run trains on.
    pub fn loss(&self) -> Loss {
        self.config.data.dataset.loss()
    }

    /// The learning rate in force at the next step (the base rate after decay).
    pub fn learning_rate(&self) -> f64 {
        let training = &self.config.training;
        training.learning_rate * training.decay.factor(self.step - self.learning_rate_set_at)
    }

    fn reshuffle(&mut self) {
        self.order.clear();
        self.order.extend(0..self.data.train_len());
        self.order.shuffle(&mut self.batch_rng);
        self.cursor = 0;
    }

    /// Copies the batch at the cursor. The cursor moves only after a successful step, so a
    /// step that diverges consumes nothing and replays the same way.
    fn fill_batch(&mut self) {
        let batch = self.batch_inputs.nrows();
        let n_in = self.batch_inputs.ncols();
        let indices = &self.order[self.cursor..self.cursor + batch];
        copy_rows(self.data.train_inputs.view(), indices, n_in, &mut self.batch_inputs);
        copy_rows(self.data.train_targets.view(), indices, 1, &mut self.batch_targets);
    }

    /// Moves the cursor past the batch just used; reshuffles when the next would not fit.
    fn advance_cursor(&mut self) {
        self.cursor += self.batch_inputs.nrows();
        self.reshuffle_if_short();
    }

    fn reshuffle_if_short(&mut self) {
        if self.cursor + self.batch_inputs.nrows() > self.order.len() {
            self.reshuffle();
        }
    }

    /// Makes one update on the next batch, unless the run has diverged.
    pub fn step(&mut self) -> StepOutcome {
        if let Some(divergence) = self.divergence {
            return StepOutcome::Diverged(divergence);
        }
        self.fill_batch();
        let loss = self.loss();
        self.mlp.forward(self.batch_inputs.view(), &mut self.workspace);
        let output_index = self.mlp.layers.len() - 1;
        let batch_loss = loss.value_and_gradient(
            self.workspace.activations[output_index].view(),
            self.batch_targets.view(),
            self.workspace.deltas[output_index].view_mut(),
        );
        if !batch_loss.is_finite() {
            return self.diverge(DivergenceCause::NonFiniteLoss);
        }
        self.mlp.backward(self.batch_inputs.view(), &mut self.workspace, &mut self.gradients);
        if !self.gradients.layers.iter().all(crate::nn::Dense::is_finite) {
            return self.diverge(DivergenceCause::NonFiniteGradient);
        }
        let learning_rate = self.learning_rate() as f32;
        self.optimizer.update(&mut self.mlp, &self.gradients, learning_rate);
        self.advance_cursor();
        self.step += 1;
        self.record.steps = self.step;
        if !self.mlp.is_finite() {
            return self.diverge(DivergenceCause::NonFiniteParameter);
        }
        StepOutcome::Trained { batch_loss }
    }

    fn diverge(&mut self, cause: DivergenceCause) -> StepOutcome {
        let divergence = Divergence { step: self.step, cause };
        self.divergence = Some(divergence);
        self.record.divergence = Some(divergence);
        StepOutcome::Diverged(divergence)
    }

    /// Losses, accuracies and per-neuron diagnostics now. Changes nothing the run depends on.
    pub fn evaluate(&mut self) -> Evaluation {
        let loss = self.loss();
        let diagnostics = diagnose(
            &self.mlp,
            self.data.train_inputs.view(),
            self.data.train_targets.view(),
            loss,
            &mut self.probe_workspace,
            &mut self.probe_gradients,
        );
        let train_accuracy =
            self.is_classification().then(|| accuracy(self.probe_workspace.outputs(), self.data.train_targets.view()));
        self.mlp.forward(self.data.test_inputs.view(), &mut self.test_workspace);
        let test_outputs = self.test_workspace.outputs();
        let test_loss = f64::from(loss.value(test_outputs, self.data.test_targets.view()));
        let test_accuracy = self.is_classification().then(|| accuracy(test_outputs, self.data.test_targets.view()));
        Evaluation {
            step: self.step,
            epoch: self.epoch(),
            learning_rate: self.learning_rate(),
            train_loss: diagnostics.loss,
            test_loss,
            train_accuracy,
            test_accuracy,
            diagnostics,
        }
    }

    fn is_classification(&self) -> bool {
        self.config.data.dataset.is_classification()
    }

    /// Applies `command` now (between two steps) and says what changed. A refused command
    /// changes nothing.
    pub fn apply(&mut self, command: SessionCommand) -> Result<Annotation, CommandError> {
        let text = self.apply_inner(&command)?;
        if command.resets_network() {
            self.record = RunRecord::new(self.config.clone());
        } else {
            self.record.commands.push(StampedCommand { step: self.step, command });
        }
        Ok(Annotation { step: self.step, text })
    }

    fn apply_inner(&mut self, command: &SessionCommand) -> Result<String, CommandError> {
        let mut next = self.config.clone();
        let text = match command {
            SessionCommand::SetLearningRate { learning_rate } => {
                next.training.learning_rate = *learning_rate;
                next.validate()?;
                let text = format!("learning rate {} → {learning_rate}", short(self.learning_rate()));
                self.learning_rate_set_at = self.step;
                text
            }
            SessionCommand::SetDecay { decay } => {
                validate_decay(*decay)?;
                next.training.decay = *decay;
                self.learning_rate_set_at = self.step;
                format!("learning-rate decay: {}", decay.label())
            }
            SessionCommand::SetBiasOffset { bias_offset } => {
                next.network.bias_offset = *bias_offset;
                next.validate()?;
                add_to_hidden_biases(&mut self.mlp, bias_offset - self.config.network.bias_offset);
                format!("bias offset {} → {bias_offset}", self.config.network.bias_offset)
            }
            SessionCommand::SetActivation { activation } => self.set_activation(&mut next, *activation)?,
            SessionCommand::SetOptimizer { optimizer } => self.set_optimizer(&mut next, *optimizer)?,
            SessionCommand::SetBatchSize { batch_size } => {
                next.training.batch_size = *batch_size;
                next.validate()?;
                self.resize_batch(*batch_size);
                format!("batch size {} → {batch_size}", self.config.training.batch_size)
            }
            SessionCommand::Reset { seed } => {
                next.seed = seed.unwrap_or(next.seed);
                self.rebuild(next.clone())?;
                format!("reset (seed {})", next.seed)
            }
            SessionCommand::SetArchitecture { hidden_layers } => {
                next.network.hidden_layers.clone_from(hidden_layers);
                self.rebuild(next.clone())?;
                format!("architecture {hidden_layers:?}: new network")
            }
            SessionCommand::SetInit { init } => {
                next.network.init = *init;
                self.rebuild(next.clone())?;
                format!("init {}: new network", init.label())
            }
            SessionCommand::SetInitialBias { initial_bias } => {
                next.network.initial_bias = *initial_bias;
                self.rebuild(next.clone())?;
                format!("initial bias {initial_bias}: new network")
            }
            SessionCommand::SetData { data } => self.set_data(&mut next, *data)?,
            SessionCommand::ReviveNeuron { layer, neuron } => {
                if !self.revive(*layer, *neuron) {
                    return Err(CommandError(format!("there is no neuron {neuron} in hidden layer {layer}")));
                }
                format!("revived neuron {} of layer {}", neuron + 1, layer + 1)
            }
            SessionCommand::ReviveDead => {
                let revived = self.revive_dead();
                format!("revived {revived} dead neurons")
            }
        };
        if !command.resets_network() {
            self.config = next;
        }
        // Any command may repair what made the run diverge; the next step checks again.
        self.divergence = None;
        self.record.divergence = None;
        Ok(text)
    }

    fn set_activation(&mut self, next: &mut RunConfig, activation: Activation) -> Result<String, CommandError> {
        next.network.activation = activation.kind();
        next.network.activation_parameter = activation.parameter();
        next.validate()?;
        let before = self.mlp.activation;
        self.mlp.set_activation(activation);
        Ok(format!("activation {before} → {activation}"))
    }

    fn set_optimizer(
        &mut self,
        next: &mut RunConfig,
        optimizer: crate::nn::OptimizerKind,
    ) -> Result<String, CommandError> {
        let (name, momentum) = match optimizer {
            crate::nn::OptimizerKind::Sgd => (super::config::OptimizerName::Sgd, next.training.momentum),
            crate::nn::OptimizerKind::Momentum { momentum } => (super::config::OptimizerName::Momentum, momentum),
            crate::nn::OptimizerKind::Adam { .. } => (super::config::OptimizerName::Adam, next.training.momentum),
        };
        next.training.optimizer = name;
        next.training.momentum = momentum;
        next.validate()?;
        let before = self.optimizer.kind().label();
        self.optimizer = Optimizer::new(next.training.optimizer_kind(), &self.mlp);
        Ok(format!("optimizer {before} → {}", optimizer.label()))
    }

    fn set_data(&mut self, next: &mut RunConfig, data: super::config::DataConfig) -> Result<String, CommandError> {
        if data.dataset.input_size() != self.config.data.dataset.input_size() {
            return Err(CommandError(format!(
                "{} has {} input(s) and the network {}: change the dataset with a reset",
                data.dataset.label(),
                data.dataset.input_size(),
                self.config.data.dataset.input_size()
            )));
        }
        next.data = data;
        next.training.batch_size = next.training.batch_size.min(data.train_points());
        next.validate()?;
        self.data = Dataset::generate(data.spec(), &mut stream_rng(next.seed, Stream::Data));
        self.data_generation += 1;
        self.probe_workspace = Workspace::new(&self.mlp, self.data.train_len());
        self.resize_batch(next.training.batch_size);
        self.reshuffle();
        Ok(format!(
            "data: {}, {} points, noise {}, {}% training",
            data.dataset.label(),
            data.points,
            data.noise,
            (data.train_fraction * 100.0).round()
        ))
    }

    /// Starts a new network from `config` (already the new settings) at step 0.
    fn rebuild(&mut self, config: RunConfig) -> Result<(), CommandError> {
        let mut fresh = Self::new(config)?;
        fresh.network_generation = self.network_generation + 1;
        fresh.data_generation = self.data_generation + 1;
        *self = fresh;
        Ok(())
    }

    /// Replaces the network with `mlp` (loaded from a file): same step, fresh optimizer state.
    /// Its layer sizes must match the config's.
    pub fn load_network(&mut self, mlp: Mlp<f32>) -> Result<(), CommandError> {
        if mlp.sizes() != self.config.layer_sizes() {
            return Err(CommandError(format!(
                "the network has layers {:?}, the run {:?}",
                mlp.sizes(),
                self.config.layer_sizes()
            )));
        }
        self.config.network.activation = mlp.activation.kind();
        self.config.network.activation_parameter = mlp.activation.parameter();
        self.optimizer = Optimizer::new(self.config.training.optimizer_kind(), &mlp);
        self.mlp = mlp;
        self.network_generation += 1;
        self.record = RunRecord::new(self.config.clone());
        Ok(())
    }

    /// Counts network rebuilds (resets): a change tells a viewer to start its plots over.
    pub fn network_generation(&self) -> u64 {
        self.network_generation
    }

    /// Counts data changes: a change tells a viewer to redraw the points.
    pub fn data_generation(&self) -> u64 {
        self.data_generation
    }

    /// The buffers of the last [`Session::evaluate`]: pre-activations and activations of every
    /// layer over the training set. `[n_train, n_out]` per layer.
    pub fn probe(&self) -> &Workspace<f32> {
        &self.probe_workspace
    }

    fn resize_batch(&mut self, batch_size: usize) {
        let batch = batch_size.min(self.data.train_len()).max(1);
        self.batch_inputs = Array2::zeros((batch, self.data.train_inputs.ncols()));
        self.batch_targets = Array2::zeros((batch, 1));
        self.workspace = Workspace::new(&self.mlp, batch);
        self.reshuffle_if_short();
    }

    /// Redraws one hidden neuron. Returns false if there is no such neuron.
    fn revive(&mut self, layer: usize, neuron: usize) -> bool {
        let hidden = self.mlp.hidden_layer_count();
        if layer >= hidden || neuron >= self.mlp.layers[layer].output_size() {
            return false;
        }
        let network = &self.config.network;
        let bias = network.initial_bias + network.bias_offset;
        self.mlp.redraw_neuron(layer, neuron, network.init, bias, &mut self.revive_rng);
        self.optimizer.reset_neuron(layer, neuron);
        true
    }

    fn revive_dead(&mut self) -> usize {
        let diagnostics = self.evaluate().diagnostics;
        let mut revived = 0;
        for (layer, stats) in diagnostics.layers.iter().enumerate() {
            for (neuron, neuron_stats) in stats.neurons.iter().enumerate() {
                if neuron_stats.state == NeuronState::Dead && self.revive(layer, neuron) {
                    revived += 1;
                }
            }
        }
        revived
    }
}

fn add_to_hidden_biases(mlp: &mut Mlp<f32>, delta: f64) {
    if delta == 0.0 {
        return;
    }
    let hidden = mlp.hidden_layer_count();
    for layer in &mut mlp.layers[..hidden] {
        layer.biases += delta as f32;
    }
}

/// Copies rows `indices` of `source` into `target`, row by row.
fn copy_rows(source: ArrayView2<f32>, indices: &[usize], width: usize, target: &mut Array2<f32>) {
    match (source.as_slice(), target.as_slice_mut()) {
        (Some(source), Some(target)) => {
            for (row, &index) in target.chunks_exact_mut(width).zip(indices) {
                row.copy_from_slice(&source[index * width..(index + 1) * width]);
            }
        }
        _ => {
            for (mut row, &index) in target.rows_mut().into_iter().zip(indices) {
                row.assign(&source.row(index));
            }
        }
    }
}

/// The share of rows whose logit has the sign of the class (1 for > 0).
fn accuracy(outputs: ArrayView2<f32>, targets: ArrayView2<f32>) -> f64 {
    let total = outputs.nrows().max(1) as f64;
    let right = outputs.iter().zip(targets).filter(|&(&logit, &target)| (logit > 0.0) == (target > 0.5)).count();
    right as f64 / total
}

/// A number in at most four significant digits, for annotations.
pub fn short(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let digits = (3 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers_read_well() {
        assert_eq!(short(0.03), "0.03");
        assert_eq!(short(3.0), "3");
        assert_eq!(short(0.000_123_456), "0.0001235");
        assert_eq!(short(1234.6), "1235");
    }

    #[test]
    fn a_command_takes_effect_at_the_next_step() {
        let mut session = Session::new(RunConfig::default()).unwrap();
        session.step();
        let annotation = session.apply(SessionCommand::SetLearningRate { learning_rate: 3.0 }).unwrap();
        assert_eq!(annotation.step, 1);
        assert_eq!(session.learning_rate(), 3.0);
        assert_eq!(session.record().commands.len(), 1);
    }
}
