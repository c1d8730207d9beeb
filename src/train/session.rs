//! The synchronous, deterministic training session: `step`, `apply` a command, `evaluate`,
//! go back to a checkpoint. The worker thread, the replay cursor and the command line drive the
//! same code.
//!
//! Everything a step depends on lives in one [`RunState`]: the network, the optimizer's state,
//! the data, the batch order and the random streams, the step count, the neuron census. A
//! checkpoint is a copy of it, so going back to one and training on gives the same bits as a
//! fresh replay of the (shortened) record.

use std::collections::VecDeque;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::census::{NeuronCensus, census_interval_steps};
use super::command::{Annotation, Divergence, DivergenceCause, SessionCommand, StampedCommand};
use super::config::{ConfigError, DataConfig, OptimizerName, RunConfig, validate_decay};
use super::evaluation::Evaluation;
use super::export::{NetworkFile, NetworkFileError, NetworkWeights};
use super::record::{LaneRecord, parameter_digest};
use super::settings::{Setting, short};
use crate::data::Dataset;
use crate::nn::diagnostics::{diagnose, layer_neuron_stats};
use crate::nn::{Activation, Gradients, Loss, Mlp, NeuronState, Optimizer, OptimizerKind, Workspace};

/// The most changes [`SessionCommand::Undo`] can set back, newest first.
pub const MAX_UNDO: usize = 64;
/// Steps between two regular checkpoints.
pub const CHECKPOINT_INTERVAL_STEPS: u64 = 200;
/// The most checkpoints kept.
pub const MAX_CHECKPOINTS: usize = 12;
/// The memory all checkpoints together may take; a large network keeps fewer (at least 2).
pub const CHECKPOINT_MEMORY_BYTES: usize = 64 << 20;

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

/// A command that was refused. Nothing was changed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// The new setting is out of range.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// There is no change to undo.
    #[error("there is no change to undo")]
    NothingToUndo,
    /// There is no such neuron to revive.
    #[error("there is no neuron {neuron} in hidden layer {layer}")]
    NoSuchNeuron {
        /// The hidden layer, from 1.
        layer: usize,
        /// The neuron, from 1.
        neuron: usize,
    },
    /// The new dataset has another number of inputs than the network.
    #[error("{dataset} has {inputs} input(s) and the network {network_inputs}: change the dataset with a reset")]
    InputCount {
        /// The new dataset's name.
        dataset: &'static str,
        /// Its inputs.
        inputs: usize,
        /// The network's inputs.
        network_inputs: usize,
    },
    /// A loaded network does not fit the run.
    #[error(transparent)]
    Network(#[from] NetworkFileError),
}

/// Where a run started: its config and, if they did not come from the seed, its weights.
#[derive(Clone, Debug, PartialEq)]
struct RunStart {
    config: RunConfig,
    initial_network: Option<NetworkWeights>,
}

/// Everything a training step depends on; a checkpoint is a copy of it.
#[derive(Clone, Debug)]
struct RunState {
    config: RunConfig,
    data: Arc<Dataset>,
    mlp: Mlp<f32>,
    optimizer: Optimizer<f32>,
    order: Vec<usize>,
    cursor: usize,
    batch_rng: ChaCha8Rng,
    revive_rng: ChaCha8Rng,
    step: u64,
    learning_rate_set_at: u64,
    census: NeuronCensus,
    /// How many of the session's recorded commands this state has seen.
    commands_applied: usize,
    /// For each undoable change still to undo, the command that sets it back (newest last).
    undo_stack: Vec<SessionCommand>,
}

impl RunState {
    /// The batch size in use (the config's, at most the training set).
    fn batch_size(&self) -> usize {
        self.config.training.batch_size.min(self.data.train_len()).max(1)
    }

    /// The memory a copy of this state takes, roughly.
    fn size_bytes(&self) -> usize {
        let parameters: usize = self.mlp.layers.iter().map(|layer| layer.weights.len() + 2 * layer.biases.len()).sum();
        let optimizer_copies = match self.optimizer.kind() {
            OptimizerKind::Sgd => 1,
            OptimizerKind::Momentum { .. } => 2,
            OptimizerKind::Adam { .. } => 3,
        };
        4 * parameters * optimizer_copies + 8 * self.order.len() + 64 * super::census::MAX_NEURON_EVENTS
    }
}

/// Reused buffers, rebuilt to fit whenever the network, the data or the batch size changes.
#[derive(Clone, Debug)]
struct Buffers {
    workspace: Workspace<f32>,
    gradients: Gradients<f32>,
    probe_workspace: Workspace<f32>,
    probe_gradients: Gradients<f32>,
    test_workspace: Workspace<f32>,
    batch_inputs: Array2<f32>,
    batch_targets: Array2<f32>,
}

impl Buffers {
    fn new(run: &RunState) -> Self {
        let (mlp, data, batch) = (&run.mlp, &run.data, run.batch_size());
        Self {
            workspace: Workspace::new(mlp, batch),
            gradients: Gradients::zeros_like(mlp),
            probe_workspace: Workspace::new(mlp, data.train_len()),
            probe_gradients: Gradients::zeros_like(mlp),
            test_workspace: Workspace::new(mlp, data.test_inputs.nrows()),
            batch_inputs: Array2::zeros((batch, data.train_inputs.ncols())),
            batch_targets: Array2::zeros((batch, 1)),
        }
    }
}

/// The recent past: copies of the run state, oldest first, to go back to after a divergence.
#[derive(Clone, Debug, Default)]
struct Checkpoints {
    states: VecDeque<RunState>,
    /// A command changed the run since the last checkpoint: take one before the next step.
    is_due: bool,
}

/// One training run: data, network, optimizer and the bookkeeping that makes it replayable.
#[derive(Clone, Debug)]
pub struct Session {
    run: RunState,
    start: RunStart,
    commands: Vec<StampedCommand>,
    divergence: Option<Divergence>,
    checkpoints: Checkpoints,
    buffers: Buffers,
    network_generation: u64,
    data_generation: u64,
    /// Counts rewinds: a change tells a viewer that the census went back.
    rewind_count: u64,
}

impl Session {
    /// A fresh session for `config`, which must be valid.
    pub fn new(config: RunConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let data = Arc::new(Dataset::generate(config.data.spec(), &mut stream_rng(config.seed, Stream::Data)));
        let mlp = Self::build_network(&config);
        let run = RunState {
            optimizer: Optimizer::new(config.training.optimizer_kind(), &mlp),
            order: Vec::new(),
            cursor: 0,
            batch_rng: stream_rng(config.seed, Stream::Batches),
            revive_rng: stream_rng(config.seed, Stream::Revive),
            step: 0,
            learning_rate_set_at: 0,
            census: NeuronCensus::default(),
            commands_applied: 0,
            undo_stack: Vec::new(),
            mlp,
            data,
            config: config.clone(),
        };
        let mut session = Self {
            buffers: Buffers::new(&run),
            run,
            start: RunStart { config, initial_network: None },
            commands: Vec::new(),
            divergence: None,
            checkpoints: Checkpoints::default(),
            network_generation: 0,
            data_generation: 0,
            rewind_count: 0,
        };
        session.reshuffle();
        session.take_census();
        Ok(session)
    }

    /// A session that starts from `mlp` instead of the seed's weights: the config's data, batch
    /// order and optimizer, the network's activation, step 0.
    pub fn with_network(mut config: RunConfig, mlp: Mlp<f32>) -> Result<Self, CommandError> {
        config.network.activation = mlp.activation.kind();
        config.network.activation_parameter = mlp.activation.parameter();
        let mut session = Self::new(config.clone())?;
        if mlp.sizes() != config.layer_sizes() {
            return Err(CommandError::Network(NetworkFileError::LayerCount {
                found: mlp.layers.len(),
                expected: config.layer_sizes().len() - 1,
            }));
        }
        session.run.optimizer = Optimizer::new(config.training.optimizer_kind(), &mlp);
        session.start.initial_network = Some(NetworkWeights::of(&mlp));
        session.run.mlp = mlp.with_numerics(config.numerics());
        session.buffers = Buffers::new(&session.run);
        session.take_census();
        Ok(session)
    }

    /// A session that continues from an exported network (its config, its weights, step 0).
    pub fn from_network_file(file: &NetworkFile) -> Result<Self, CommandError> {
        Self::with_network(file.config.clone(), file.to_mlp()?)
    }

    /// The network now, as an exported network file.
    pub fn network_file(&self) -> NetworkFile {
        NetworkFile::new(&self.run.mlp, &self.run.config, self.run.step)
    }

    fn build_network(config: &RunConfig) -> Mlp<f32> {
        let network = &config.network;
        let mut mlp = Mlp::new(
            &config.layer_sizes(),
            network.activation(),
            network.init,
            network.initial_bias,
            &mut stream_rng(config.seed, Stream::Init),
        )
        .with_numerics(config.numerics());
        add_to_hidden_biases(&mut mlp, network.bias_offset);
        mlp
    }

    /// The current settings (the config updated by every command since).
    pub fn config(&self) -> &RunConfig {
        &self.run.config
    }

    /// The network.
    pub fn network(&self) -> &Mlp<f32> {
        &self.run.mlp
    }

    /// The data.
    pub fn data(&self) -> &Dataset {
        &self.run.data
    }

    /// Steps made since the network was built.
    pub fn step_count(&self) -> u64 {
        self.run.step
    }

    /// Passes over the training set so far.
    pub fn epoch(&self) -> f64 {
        self.run.step as f64 * self.run.batch_size() as f64 / self.run.data.train_len().max(1) as f64
    }

    /// The divergence that stopped the run, if any.
    pub fn divergence(&self) -> Option<Divergence> {
        self.divergence
    }

    /// The neuron census: states, "since" steps, revivals.
    pub fn census(&self) -> &NeuronCensus {
        &self.run.census
    }

    /// The commands applied since the network was built, each with its step.
    pub fn commands(&self) -> &[StampedCommand] {
        &self.commands
    }

    /// The replayable record of this run so far, with a digest of the parameters now.
    pub fn record(&self) -> LaneRecord {
        LaneRecord {
            commands: self.commands.clone(),
            steps: self.run.step,
            divergence: self.divergence,
            parameter_digest: Some(parameter_digest(&self.run.mlp)),
            ..LaneRecord::new(self.start.config.clone(), self.start.initial_network.clone())
        }
    }

    /// The loss this run trains on.
    pub fn loss(&self) -> Loss {
        self.run.config.data.dataset.loss()
    }

    /// The learning rate in force at the next step (the base rate after decay).
    pub fn learning_rate(&self) -> f64 {
        let training = &self.run.config.training;
        training.learning_rate * training.decay.factor(self.run.step - self.run.learning_rate_set_at)
    }

    /// The training points the next step trains on (indices into the training set), in the
    /// order the batch holds them.
    pub fn next_batch_indices(&self) -> &[usize] {
        let batch = self.buffers.batch_inputs.nrows();
        self.run.order.get(self.run.cursor..self.run.cursor + batch).unwrap_or_default()
    }

    fn reshuffle(&mut self) {
        let run = &mut self.run;
        run.order.clear();
        run.order.extend(0..run.data.train_len());
        run.order.shuffle(&mut run.batch_rng);
        run.cursor = 0;
    }

    /// Copies the batch at the cursor. The cursor moves only after a successful step, so a
    /// step that diverges consumes nothing and replays the same way.
    fn fill_batch(&mut self) {
        let (run, buffers) = (&self.run, &mut self.buffers);
        let batch = buffers.batch_inputs.nrows();
        let n_in = buffers.batch_inputs.ncols();
        let indices = &run.order[run.cursor..run.cursor + batch];
        copy_rows(run.data.train_inputs.view(), indices, n_in, &mut buffers.batch_inputs);
        copy_rows(run.data.train_targets.view(), indices, 1, &mut buffers.batch_targets);
    }

    /// Moves the cursor past the batch just used; reshuffles when the next would not fit.
    fn advance_cursor(&mut self) {
        self.run.cursor += self.buffers.batch_inputs.nrows();
        self.reshuffle_if_short();
    }

    fn reshuffle_if_short(&mut self) {
        if self.run.cursor + self.buffers.batch_inputs.nrows() > self.run.order.len() {
            self.reshuffle();
        }
    }

    /// Makes one update on the next batch, unless the run has diverged.
    pub fn step(&mut self) -> StepOutcome {
        if let Some(divergence) = self.divergence {
            return StepOutcome::Diverged(divergence);
        }
        self.checkpoint_if_due();
        self.fill_batch();
        let loss = self.loss();
        let (run, buffers) = (&mut self.run, &mut self.buffers);
        run.mlp.forward(buffers.batch_inputs.view(), &mut buffers.workspace);
        let output_index = run.mlp.layers.len() - 1;
        let batch_loss = loss.value_and_gradient(
            buffers.workspace.activations[output_index].view(),
            buffers.batch_targets.view(),
            buffers.workspace.deltas[output_index].view_mut(),
        );
        if !batch_loss.is_finite() {
            return self.diverge(DivergenceCause::NonFiniteLoss);
        }
        run.mlp.backward(buffers.batch_inputs.view(), &mut buffers.workspace, &mut buffers.gradients);
        if !buffers.gradients.layers.iter().all(crate::nn::Dense::is_finite) {
            return self.diverge(DivergenceCause::NonFiniteGradient);
        }
        if let Some(max_norm) = run.config.training.clip_gradient_norm {
            buffers.gradients.clip_global_norm(max_norm);
        }
        let learning_rate = self.learning_rate() as f32;
        let (run, buffers) = (&mut self.run, &mut self.buffers);
        run.optimizer.update(&mut run.mlp, &buffers.gradients, learning_rate);
        self.advance_cursor();
        self.run.step += 1;
        if !self.run.mlp.is_finite() {
            return self.diverge(DivergenceCause::NonFiniteParameter);
        }
        if self.run.step.is_multiple_of(census_interval_steps(self.run.data.train_len(), self.run.batch_size())) {
            self.take_census();
        }
        StepOutcome::Trained { batch_loss }
    }

    fn diverge(&mut self, cause: DivergenceCause) -> StepOutcome {
        let divergence = Divergence { step: self.run.step, cause };
        self.divergence = Some(divergence);
        StepOutcome::Diverged(divergence)
    }

    /// Classifies every hidden neuron on the training inputs and hands the result to the census.
    fn take_census(&mut self) {
        let (run, buffers) = (&mut self.run, &mut self.buffers);
        run.mlp.forward(run.data.train_inputs.view(), &mut buffers.probe_workspace);
        let layers: Vec<_> = (0..run.mlp.hidden_layer_count())
            .map(|index| layer_neuron_stats(&run.mlp, index, &buffers.probe_workspace))
            .collect();
        run.census.record(run.step, &layers);
    }

    /// Losses, accuracies and per-neuron diagnostics now. Changes nothing the run depends on.
    pub fn evaluate(&mut self) -> Evaluation {
        let loss = self.loss();
        let (run, buffers) = (&self.run, &mut self.buffers);
        let diagnostics = diagnose(
            &run.mlp,
            run.data.train_inputs.view(),
            run.data.train_targets.view(),
            loss,
            &mut buffers.probe_workspace,
            &mut buffers.probe_gradients,
        );
        let is_classification = run.config.data.dataset.is_classification();
        let train_accuracy =
            is_classification.then(|| accuracy(buffers.probe_workspace.outputs(), run.data.train_targets.view()));
        run.mlp.forward(run.data.test_inputs.view(), &mut buffers.test_workspace);
        let test_outputs = buffers.test_workspace.outputs();
        let test_loss = f64::from(loss.value(test_outputs, run.data.test_targets.view()));
        let test_accuracy = is_classification.then(|| accuracy(test_outputs, run.data.test_targets.view()));
        Evaluation {
            step: run.step,
            epoch: self.epoch(),
            learning_rate: self.learning_rate(),
            train_loss: diagnostics.loss,
            test_loss,
            train_accuracy,
            test_accuracy,
            diagnostics,
            revived: run.census.revived().to_vec(),
        }
    }

    /// Applies `command` now (between two steps) and says what changed. A refused command
    /// changes nothing.
    pub fn apply(&mut self, command: SessionCommand) -> Result<Annotation, CommandError> {
        let text = if command == SessionCommand::Undo {
            self.undo()?
        } else {
            let inverse = self.inverse_of(&command);
            let text = self.apply_inner(&command)?;
            if let Some(inverse) = inverse {
                if self.run.undo_stack.len() == MAX_UNDO {
                    self.run.undo_stack.remove(0);
                }
                self.run.undo_stack.push(inverse);
            }
            text
        };
        if !command.resets_network() {
            self.commands.push(StampedCommand { step: self.run.step, command });
            self.run.commands_applied = self.commands.len();
            self.checkpoints.is_due = true;
        }
        self.take_census();
        Ok(Annotation { step: self.run.step, text })
    }

    /// Sets back the last undoable change; its words say what was undone.
    fn undo(&mut self) -> Result<String, CommandError> {
        let inverse = self.run.undo_stack.pop().ok_or(CommandError::NothingToUndo)?;
        match self.apply_inner(&inverse) {
            Ok(text) => Ok(format!("undo: {text}")),
            Err(error) => {
                self.run.undo_stack.push(inverse);
                Err(error)
            }
        }
    }

    /// The command that would set back what `command` changes, from the settings now.
    fn inverse_of(&self, command: &SessionCommand) -> Option<SessionCommand> {
        Setting::inverse(command, &self.run.config)
    }

    fn apply_inner(&mut self, command: &SessionCommand) -> Result<String, CommandError> {
        let mut next = self.run.config.clone();
        let text = match command {
            SessionCommand::SetLearningRate { learning_rate } => {
                next.training.learning_rate = *learning_rate;
                next.validate()?;
                let text = format!("learning rate {} → {learning_rate}", short(self.learning_rate()));
                self.run.learning_rate_set_at = self.run.step;
                text
            }
            SessionCommand::SetDecay { decay } => {
                validate_decay(*decay)?;
                next.training.decay = *decay;
                self.run.learning_rate_set_at = self.run.step;
                format!("learning-rate decay: {}", decay.label())
            }
            SessionCommand::SetBiasOffset { bias_offset } => {
                next.network.bias_offset = *bias_offset;
                next.validate()?;
                add_to_hidden_biases(&mut self.run.mlp, bias_offset - self.run.config.network.bias_offset);
                format!("bias offset {} → {bias_offset}", self.run.config.network.bias_offset)
            }
            SessionCommand::SetActivation { activation } => self.set_activation(&mut next, *activation)?,
            SessionCommand::SetOptimizer { optimizer } => self.set_optimizer(&mut next, *optimizer)?,
            SessionCommand::SetGradientClipping { max_norm } => {
                next.training.clip_gradient_norm = *max_norm;
                next.validate()?;
                match max_norm {
                    Some(norm) => format!("gradient clipping at norm {}", short(*norm)),
                    None => "gradient clipping off".to_owned(),
                }
            }
            SessionCommand::SetBatchSize { batch_size } => {
                next.training.batch_size = *batch_size;
                next.validate()?;
                let text = format!("batch size {} → {batch_size}", self.run.config.training.batch_size);
                self.run.config.training.batch_size = *batch_size;
                self.fit_batch();
                text
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
                    return Err(CommandError::NoSuchNeuron { layer: layer + 1, neuron: neuron + 1 });
                }
                format!("revived neuron {} of layer {}", neuron + 1, layer + 1)
            }
            SessionCommand::ReviveDead => {
                let revived = self.revive_dead();
                format!("revived {revived} dead neurons")
            }
            SessionCommand::Undo => return self.undo(),
        };
        if !command.resets_network() {
            self.run.config = next;
        }
        // Any command may repair what made the run diverge; the next step checks again.
        self.divergence = None;
        Ok(text)
    }

    fn set_activation(&mut self, next: &mut RunConfig, activation: Activation) -> Result<String, CommandError> {
        next.network.activation = activation.kind();
        next.network.activation_parameter = activation.parameter();
        next.validate()?;
        let before = self.run.mlp.activation;
        self.run.mlp.set_activation(activation);
        Ok(format!("activation {before} → {activation}"))
    }

    fn set_optimizer(&mut self, next: &mut RunConfig, optimizer: OptimizerKind) -> Result<String, CommandError> {
        let (name, momentum) = match optimizer {
            OptimizerKind::Sgd => (OptimizerName::Sgd, next.training.momentum),
            OptimizerKind::Momentum { momentum } => (OptimizerName::Momentum, momentum),
            OptimizerKind::Adam { .. } => (OptimizerName::Adam, next.training.momentum),
        };
        next.training.optimizer = name;
        next.training.momentum = momentum;
        next.validate()?;
        let before = self.run.optimizer.kind().label();
        self.run.optimizer = Optimizer::new(next.training.optimizer_kind(), &self.run.mlp);
        Ok(format!("optimizer {before} → {}", optimizer.label()))
    }

    fn set_data(&mut self, next: &mut RunConfig, data: DataConfig) -> Result<String, CommandError> {
        let network_inputs = self.run.config.data.dataset.input_size();
        if data.dataset.input_size() != network_inputs {
            return Err(CommandError::InputCount {
                dataset: data.dataset.label(),
                inputs: data.dataset.input_size(),
                network_inputs,
            });
        }
        next.data = data;
        next.training.batch_size = next.training.batch_size.min(data.train_points());
        next.validate()?;
        self.run.data = Arc::new(Dataset::generate(data.spec(), &mut stream_rng(next.seed, Stream::Data)));
        self.run.config.training.batch_size = next.training.batch_size;
        self.data_generation += 1;
        self.buffers = Buffers::new(&self.run);
        self.reshuffle();
        Ok(format!(
            "data: {}, {} points, noise {}, {}% training{}",
            data.dataset.label(),
            data.points,
            data.noise,
            (data.train_fraction * 100.0).round(),
            if data.standardize { ", standardized" } else { "" }
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

    /// Counts network rebuilds (resets): a change tells a viewer to start its plots over.
    pub fn network_generation(&self) -> u64 {
        self.network_generation
    }

    /// Counts the times the run went back to a checkpoint.
    pub fn rewind_count(&self) -> u64 {
        self.rewind_count
    }

    /// Counts data changes: a change tells a viewer to redraw the points.
    pub fn data_generation(&self) -> u64 {
        self.data_generation
    }

    /// The buffers of the last [`Session::evaluate`]: pre-activations and activations of every
    /// layer over the training set. `[n_train, n_out]` per layer.
    pub fn probe(&self) -> &Workspace<f32> {
        &self.buffers.probe_workspace
    }

    /// Resizes the batch buffers after a batch-size change.
    fn fit_batch(&mut self) {
        let batch = self.run.batch_size();
        let buffers = &mut self.buffers;
        buffers.batch_inputs = Array2::zeros((batch, self.run.data.train_inputs.ncols()));
        buffers.batch_targets = Array2::zeros((batch, 1));
        buffers.workspace = Workspace::new(&self.run.mlp, batch);
        self.reshuffle_if_short();
    }

    /// Redraws one hidden neuron. Returns false if there is no such neuron.
    fn revive(&mut self, layer: usize, neuron: usize) -> bool {
        let run = &mut self.run;
        let hidden = run.mlp.hidden_layer_count();
        if layer >= hidden || neuron >= run.mlp.layers[layer].output_size() {
            return false;
        }
        let network = &run.config.network;
        let bias = network.initial_bias + network.bias_offset;
        run.mlp.redraw_neuron(layer, neuron, network.init, bias, &mut run.revive_rng);
        run.optimizer.reset_neuron(layer, neuron);
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

    /// Takes a checkpoint before this step if one is due: every
    /// [`CHECKPOINT_INTERVAL_STEPS`], and after any command.
    fn checkpoint_if_due(&mut self) {
        let checkpoints = &mut self.checkpoints;
        let is_regular = self.run.step.is_multiple_of(CHECKPOINT_INTERVAL_STEPS);
        // A network that overflowed is no place to go back to (a command made after a
        // divergence lets the run try its next step from it).
        if !(is_regular || checkpoints.is_due) || !self.run.mlp.is_finite() {
            return;
        }
        checkpoints.is_due = false;
        if checkpoints.states.back().is_some_and(|last| last.step == self.run.step) {
            checkpoints.states.pop_back();
        }
        let capacity = (CHECKPOINT_MEMORY_BYTES / self.run.size_bytes().max(1)).clamp(2, MAX_CHECKPOINTS);
        while checkpoints.states.len() >= capacity {
            checkpoints.states.pop_front();
        }
        checkpoints.states.push_back(self.run.clone());
    }

    /// The newest checkpoint at or before `step`, to go back to (for a diverged run, pass the
    /// step it diverged at).
    pub fn checkpoint_at_or_before(&self, step: u64) -> Option<u64> {
        self.checkpoint_steps().rev().find(|&at| at <= step)
    }

    /// Where "go back" lands after a divergence: the newest checkpoint *before* the step that
    /// diverged. Not the one at that step: a network can be finite and still give a loss that
    /// is not (weights of 1e30), and going back to it would diverge again at once, at any
    /// learning rate. Every checkpoint before it made a step with a finite loss and gradient.
    /// `None` if the run has not diverged or no checkpoint is that old.
    pub fn checkpoint_before_divergence(&self) -> Option<u64> {
        let failed_at = self.divergence?.step;
        self.checkpoint_at_or_before(failed_at.checked_sub(1)?)
    }

    /// The steps of every checkpoint kept, oldest first. Every one holds finite parameters.
    pub fn checkpoint_steps(&self) -> impl DoubleEndedIterator<Item = u64> + '_ {
        self.checkpoints.states.iter().map(|state| state.step)
    }

    /// Goes back to the newest checkpoint at or before `step`: the network, the optimizer, the
    /// batch order, the census and the record as they were then (commands after it are
    /// dropped from the record, so a replay of the record still gives the same bits). Returns
    /// the step it went back to, or `None` if there is no such checkpoint.
    pub fn rewind(&mut self, step: u64) -> Option<u64> {
        let index = self.checkpoints.states.iter().rposition(|state| state.step <= step)?;
        self.checkpoints.states.truncate(index + 1);
        let state = self.checkpoints.states[index].clone();
        if !Arc::ptr_eq(&state.data, &self.run.data) {
            self.data_generation += 1;
        }
        self.commands.truncate(state.commands_applied);
        self.run = state;
        self.rewind_count += 1;
        self.divergence = None;
        self.checkpoints.is_due = false;
        self.buffers = Buffers::new(&self.run);
        Some(self.run.step)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_takes_effect_at_the_next_step() {
        let mut session = Session::new(RunConfig::default()).unwrap();
        session.step();
        let annotation = session.apply(SessionCommand::SetLearningRate { learning_rate: 3.0 }).unwrap();
        assert_eq!(annotation.step, 1);
        assert_eq!(session.learning_rate(), 3.0);
        assert_eq!(session.record().commands.len(), 1);
    }

    #[test]
    fn undo_sets_back_the_last_changes_in_turn_and_replays_exactly() {
        let mut session = Session::new(RunConfig::default()).unwrap();
        session.step();
        session.apply(SessionCommand::SetLearningRate { learning_rate: 3.0 }).unwrap();
        session.apply(SessionCommand::SetBiasOffset { bias_offset: 1.0 }).unwrap();
        session.apply(SessionCommand::ReviveDead).unwrap();
        session.step();
        let undone = session.apply(SessionCommand::Undo).unwrap();
        assert_eq!(undone.text, "undo: bias offset 1 → 0");
        assert_eq!(session.config().network.bias_offset, 0.0);
        session.apply(SessionCommand::Undo).unwrap();
        assert_eq!(session.config().training.learning_rate, 0.03);
        assert_eq!(session.apply(SessionCommand::Undo), Err(CommandError::NothingToUndo));
        for _ in 0..20 {
            session.step();
        }
        let record = session.record();
        assert_eq!(record.commands.iter().filter(|c| c.command == SessionCommand::Undo).count(), 2);
        let (mut replayed, mut cursor) = crate::train::replay::ReplayCursor::start(&record).unwrap();
        let verification = cursor.run_to_end(&mut replayed, |_| Ok::<(), ()>(())).unwrap();
        assert_eq!(verification, crate::train::replay::Verification::Matches);
    }

    #[test]
    fn going_back_to_a_checkpoint_gives_the_bits_of_a_run_that_never_left_it() {
        let mut detour = Session::new(RunConfig::default()).unwrap();
        for _ in 0..450 {
            detour.step();
        }
        detour.apply(SessionCommand::SetLearningRate { learning_rate: 50.0 }).unwrap();
        for _ in 0..30 {
            detour.step();
        }
        // The checkpoint after the command (step 450) is the newest at or before 460.
        assert_eq!(detour.rewind(449), Some(400));
        assert!(detour.commands().is_empty());
        let mut straight_from_400 = Session::new(RunConfig::default()).unwrap();
        for _ in 0..400 {
            straight_from_400.step();
        }
        for _ in 0..100 {
            detour.step();
            straight_from_400.step();
        }
        assert_eq!(detour.record().parameter_digest, straight_from_400.record().parameter_digest);
        assert_eq!(detour.network(), straight_from_400.network());
    }
}
