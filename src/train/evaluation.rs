//! The numbers of a run at one moment, as a session measures them: losses, accuracies, every
//! neuron's state and every layer's gradient norm. History points, snapshots and figures are
//! made from it.

use serde::{Deserialize, Serialize};

use crate::nn::NetworkDiagnostics;

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
    /// Per hidden layer, revivals so far as the census counted them.
    pub revived: Vec<u64>,
}
