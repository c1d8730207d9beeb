//! Files a run can be saved to: the history as CSV or JSON lines (the columns of `relu-lab
//! run`), and the network as JSON that relu-lab loads back and a PyTorch user can read.
//!
//! # The network file
//!
//! ```json
//! {
//!   "format": "relu-lab-network", "version": 1, "step": 3000,
//!   "activation": { "kind": "leaky-relu", "slope": 0.01 },
//!   "config": { ...the run config, as in a TOML config file... },
//!   "layers": [
//!     { "in_features": 2, "out_features": 8, "activation": "leaky-relu",
//!       "weight": [[w00, w01], ...8 rows...], "bias": [b0, ...], "prelu_weight": null },
//!     ...,
//!     { "in_features": 8, "out_features": 1, "activation": "linear", "weight": [[...]], "bias": [b] }
//!   ]
//! }
//! ```
//!
//! Each layer is `y = activation(x @ weight.T + bias)`: `weight` is `[out_features][in_features]`,
//! exactly the layout of `torch.nn.Linear.weight`, so
//! `linear.weight.data = torch.tensor(layer["weight"])` and
//! `linear.bias.data = torch.tensor(layer["bias"])` rebuild the network. The last layer is
//! linear: its output is a logit (classification, `sigmoid` gives the probability of class 1)
//! or the fitted value (regression). Under PReLU, `prelu_weight` holds one slope per neuron
//! (`torch.nn.PReLU(num_parameters=out_features).weight`). Inputs are raw coordinates: `(x, y)`
//! in `[-6, 6]^2` for the 2-D sets, `x` in `[-1, 1]` for the 1-D ones.

use std::fmt::Write as _;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::config::RunConfig;
use super::history::HistoryPoint;
use super::session::Session;
use crate::nn::{Activation, Dense, Mlp};

/// The `format` field of a network file.
pub const NETWORK_FORMAT: &str = "relu-lab-network";
/// The network file version this code writes and reads.
pub const NETWORK_VERSION: u32 = 1;

/// A whole network with its config: what "export network" writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkFile {
    /// Always `relu-lab-network`.
    pub format: String,
    /// The layout version.
    pub version: u32,
    /// The step at which it was saved.
    pub step: u64,
    /// The hidden activation.
    pub activation: Activation,
    /// The run's settings.
    pub config: RunConfig,
    /// Hidden layers, then the output layer.
    pub layers: Vec<LayerFile>,
}

/// One dense layer, in PyTorch's layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerFile {
    /// Inputs.
    pub in_features: usize,
    /// Neurons.
    pub out_features: usize,
    /// `relu`, `leaky-relu`, ... for hidden layers; `linear` for the output.
    pub activation: String,
    /// `[out_features][in_features]`, as `torch.nn.Linear.weight`.
    pub weight: Vec<Vec<f32>>,
    /// `[out_features]`.
    pub bias: Vec<f32>,
    /// Under PReLU, one slope per neuron.
    pub prelu_weight: Option<Vec<f32>>,
}

impl NetworkFile {
    /// The network of `session` now.
    pub fn from_session(session: &Session) -> Self {
        let mlp = session.network();
        let hidden = mlp.hidden_layer_count();
        let is_prelu = matches!(mlp.activation, Activation::Prelu { .. });
        let layers = mlp
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                let is_hidden = index < hidden;
                LayerFile {
                    in_features: layer.input_size(),
                    out_features: layer.output_size(),
                    activation: if is_hidden { mlp.activation.kind().key() } else { "linear" }.to_owned(),
                    weight: layer.weights.columns().into_iter().map(|column| column.to_vec()).collect(),
                    bias: layer.biases.to_vec(),
                    prelu_weight: (is_hidden && is_prelu).then(|| layer.prelu_slopes.to_vec()),
                }
            })
            .collect();
        Self {
            format: NETWORK_FORMAT.to_owned(),
            version: NETWORK_VERSION,
            step: session.step_count(),
            activation: mlp.activation,
            config: session.config().clone(),
            layers,
        }
    }

    /// This file as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// Parses and checks a network file.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let file: Self = serde_json::from_str(text).map_err(|error| format!("not a network file: {error}"))?;
        if file.format != NETWORK_FORMAT || file.version != NETWORK_VERSION {
            return Err(format!(
                "this is a '{}' file, version {}; relu-lab reads '{NETWORK_FORMAT}' version {NETWORK_VERSION}",
                file.format, file.version
            ));
        }
        file.config.validate().map_err(|error| format!("the network file's config is invalid: {error}"))?;
        file.to_mlp()?;
        Ok(file)
    }

    /// The network, checked against the config's layer sizes.
    pub fn to_mlp(&self) -> Result<Mlp<f32>, String> {
        let sizes = self.config.layer_sizes();
        if self.layers.len() + 1 != sizes.len() {
            return Err(format!("the file has {} layers, its config {}", self.layers.len(), sizes.len() - 1));
        }
        let slope = self.activation.initial_prelu_slope() as f32;
        let layers = self
            .layers
            .iter()
            .zip(sizes.windows(2))
            .enumerate()
            .map(|(index, (layer, pair))| layer.to_dense(index, (pair[0], pair[1]), slope))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Mlp { layers, activation: self.activation })
    }

    /// A session that continues from this network (its config, its weights, step 0).
    pub fn to_session(&self) -> Result<Session, String> {
        let mut session = Session::new(self.config.clone()).map_err(|error| error.to_string())?;
        session.load_network(self.to_mlp()?).map_err(|error| error.to_string())?;
        Ok(session)
    }
}

impl LayerFile {
    fn to_dense(&self, index: usize, (n_in, n_out): (usize, usize), default_slope: f32) -> Result<Dense<f32>, String> {
        let wrong_shape = || format!("layer {}: expected {n_out} x {n_in} weights", index + 1);
        if self.weight.len() != n_out || self.weight.iter().any(|row| row.len() != n_in) || self.bias.len() != n_out {
            return Err(wrong_shape());
        }
        let values = self.weight.iter().chain(std::iter::once(&self.bias)).flatten();
        if !values.into_iter().all(|v| v.is_finite()) {
            return Err(format!("layer {}: a weight or bias is not a finite number", index + 1));
        }
        let weights = Array2::from_shape_fn((n_in, n_out), |(i, j)| self.weight[j][i]);
        let prelu_slopes = match &self.prelu_weight {
            Some(slopes) if slopes.len() == n_out => Array1::from(slopes.clone()),
            Some(_) => return Err(format!("layer {}: expected {n_out} PReLU slopes", index + 1)),
            None => Array1::from_elem(n_out, default_slope),
        };
        Ok(Dense { weights, biases: Array1::from(self.bias.clone()), prelu_slopes })
    }
}

/// The CSV header for `layers` hidden layers (the columns of `relu-lab run --csv`).
pub fn csv_header(layers: usize) -> String {
    let mut text = "step,epoch,learning_rate,train_loss,test_loss,train_accuracy,test_accuracy".to_owned();
    for layer in 1..=layers {
        let _ = write!(text, ",l{layer}_alive,l{layer}_dying,l{layer}_dead,l{layer}_saturated,l{layer}_grad_norm");
    }
    text.push_str(",output_grad_norm,collapsed");
    text
}

/// One CSV row.
pub fn csv_row(point: &HistoryPoint) -> String {
    let optional = |value: Option<f64>| value.map_or_else(String::new, |v| v.to_string());
    let mut text = format!(
        "{},{},{},{},{},{},{}",
        point.step,
        point.epoch,
        point.learning_rate,
        point.train_loss,
        point.test_loss,
        optional(point.train_accuracy),
        optional(point.test_accuracy)
    );
    for layer in &point.layers {
        let _ =
            write!(text, ",{},{},{},{},{}", layer.alive, layer.dying, layer.dead, layer.saturated, layer.gradient_norm);
    }
    let _ = write!(text, ",{},{}", point.output_gradient_norm, point.is_collapsed);
    text
}

/// One JSON row: the CSV's fields, with the layers as an array.
pub fn json_row(point: &HistoryPoint) -> serde_json::Value {
    let layers: Vec<serde_json::Value> = point
        .layers
        .iter()
        .map(|layer| {
            serde_json::json!({
                "alive": layer.alive, "dying": layer.dying, "dead": layer.dead,
                "saturated": layer.saturated, "grad_norm": layer.gradient_norm,
            })
        })
        .collect();
    serde_json::json!({
        "step": point.step,
        "epoch": point.epoch,
        "learning_rate": point.learning_rate,
        "train_loss": point.train_loss,
        "test_loss": point.test_loss,
        "train_accuracy": point.train_accuracy,
        "test_accuracy": point.test_accuracy,
        "layers": layers,
        "output_grad_norm": point.output_gradient_norm,
        "collapsed": point.is_collapsed,
    })
}

/// A whole history as CSV (header plus a row per point). Points whose layer count differs
/// from the first (after an architecture change) keep their own columns.
pub fn history_csv(points: &[HistoryPoint]) -> String {
    let layers = points.first().map_or(0, |point| point.layers.len());
    let mut text = csv_header(layers);
    text.push('\n');
    for point in points {
        text.push_str(&csv_row(point));
        text.push('\n');
    }
    text
}

/// A whole history as JSON lines (one object per point).
pub fn history_json_lines(points: &[HistoryPoint]) -> String {
    points.iter().map(|point| json_row(point).to_string() + "\n").collect()
}
