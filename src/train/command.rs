//! The protocol between the UI and the trainer: commands in, events out.

use serde::{Deserialize, Serialize};

use super::config::DataConfig;
use crate::nn::{Activation, Decay, Init, OptimizerKind};

/// A change to the run, applied between two steps. Commands that change the numbers are
/// recorded with the step at which they were applied, so a run can be replayed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SessionCommand {
    /// Sets the base learning rate (decay restarts from here).
    SetLearningRate {
        /// The new base learning rate.
        learning_rate: f64,
    },
    /// Sets the learning-rate decay (counted from now).
    SetDecay {
        /// The new schedule.
        decay: Decay,
    },
    /// Moves the bias offset: every hidden bias changes by the difference from the old offset.
    SetBiasOffset {
        /// The new offset.
        bias_offset: f64,
    },
    /// Switches the hidden activation, keeping every weight.
    SetActivation {
        /// The new activation, with its parameter.
        activation: Activation,
    },
    /// Switches the optimizer (its state starts fresh).
    SetOptimizer {
        /// The new optimizer.
        optimizer: OptimizerKind,
    },
    /// Turns gradient-norm clipping on (at `max_norm`) or off (`None`).
    SetGradientClipping {
        /// The longest the gradient of all parameters together may be; `None` for no clipping.
        max_norm: Option<f64>,
    },
    /// Sets the batch size.
    SetBatchSize {
        /// Examples per step.
        batch_size: usize,
    },
    /// Starts over from a fresh network: the same seed, or `seed` if given.
    Reset {
        /// The new seed, if any.
        seed: Option<u64>,
    },
    /// Sets the hidden layer widths (resets the network).
    SetArchitecture {
        /// The width of each hidden layer.
        hidden_layers: Vec<usize>,
    },
    /// Sets the initializer (resets the network).
    SetInit {
        /// The new initializer.
        init: Init,
    },
    /// Sets the initial hidden bias (resets the network).
    SetInitialBias {
        /// The new initial bias.
        initial_bias: f64,
    },
    /// Replaces the data (same network).
    SetData {
        /// Dataset, points, noise and split.
        data: DataConfig,
    },
    /// Redraws one neuron's incoming weights; its bias goes back to the initial bias (plus the
    /// bias offset).
    ReviveNeuron {
        /// The hidden layer, from 0.
        layer: usize,
        /// The neuron within the layer, from 0.
        neuron: usize,
    },
    /// Revives every dead neuron.
    ReviveDead,
    /// Undoes the last change of a setting (learning rate, decay, bias offset, activation,
    /// optimizer, clipping, batch size, data) by setting it back. Recorded as itself: a replay
    /// undoes the same change, so it stays exact.
    Undo,
}

impl SessionCommand {
    /// Whether this command starts a new network (and so a new run record).
    pub fn resets_network(&self) -> bool {
        matches!(
            self,
            Self::Reset { .. } | Self::SetArchitecture { .. } | Self::SetInit { .. } | Self::SetInitialBias { .. }
        )
    }
}

/// A session command with the step at which it was applied (before that step ran).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StampedCommand {
    /// The session's step count when the command was applied.
    pub step: u64,
    /// The command.
    #[serde(flatten)]
    pub command: SessionCommand,
}

/// A command's effect in words, for the history and plot markers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// The step at which the command took effect.
    pub step: u64,
    /// What changed, such as "learning rate 0.03 → 3".
    pub text: String,
}

/// Why a run stopped by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DivergenceCause {
    /// The training loss became NaN or infinite.
    NonFiniteLoss,
    /// A gradient became NaN or infinite (the update was not applied).
    NonFiniteGradient,
    /// A weight or bias overflowed during the update.
    NonFiniteParameter,
}

impl DivergenceCause {
    /// A sentence a user reads.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NonFiniteLoss => "the loss became NaN or infinite",
            Self::NonFiniteGradient => "a gradient became NaN or infinite, so the update was skipped",
            Self::NonFiniteParameter => "a weight overflowed to infinity or NaN",
        }
    }
}

/// A run that diverged: at which step, and why.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// The step that diverged.
    pub step: u64,
    /// Why.
    pub cause: DivergenceCause,
}
