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

use super::config::{ConfigError, RunConfig};
use super::history::HistoryPoint;
use crate::nn::{Activation, Dense, Mlp};

/// The `format` field of a network file.
pub const NETWORK_FORMAT: &str = "relu-lab-network";
/// The network file version this code writes and reads.
pub const NETWORK_VERSION: u32 = 1;
/// The largest PReLU slope (in absolute value) a file may hold.
pub const MAX_PRELU_SLOPE: f32 = 1e3;

/// Why a network could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NetworkFileError {
    /// The text is not JSON of the right shape (or has unknown fields).
    #[error("not a network file: {0}")]
    Parse(String),
    /// Another format or version.
    #[error(
        "this is a '{format}' file, version {version}; relu-lab reads '{NETWORK_FORMAT}' version {NETWORK_VERSION}"
    )]
    Format {
        /// The file's `format`.
        format: String,
        /// The file's `version`.
        version: u32,
    },
    /// The embedded run config is invalid.
    #[error("the network file's config is invalid: {0}")]
    Config(ConfigError),
    /// The file's `activation` and its config's `network.activation` (with its parameter)
    /// disagree, so it is not clear which one the network was trained with.
    #[error(
        "the network file says its activation is {file}, but its config (config.network) says {config}; \
         make the two the same"
    )]
    ActivationMismatch {
        /// The top-level `activation`.
        file: Activation,
        /// What `config.network` builds.
        config: Activation,
    },
    /// The activation or its parameter is not allowed.
    #[error("the network's activation is invalid: {0}")]
    Activation(ConfigError),
    /// The layer count does not match the config.
    #[error("the file has {found} layers, its config {expected}")]
    LayerCount {
        /// Layers in the file.
        found: usize,
        /// Layers the config builds.
        expected: usize,
    },
    /// One layer is wrong.
    #[error("layer {layer}: {problem}")]
    Layer {
        /// The layer, from 1.
        layer: usize,
        /// What is wrong with it.
        problem: String,
    },
}

/// A network's parameters in PyTorch's layout, with its activation but without a config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkWeights {
    /// The hidden activation.
    pub activation: Activation,
    /// Hidden layers, then the output layer.
    pub layers: Vec<LayerFile>,
}

/// A whole network with its config: what "export network" writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
    #[serde(default)]
    pub prelu_weight: Option<Vec<f32>>,
}

impl NetworkWeights {
    /// The parameters of `mlp`.
    pub fn of(mlp: &Mlp<f32>) -> Self {
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
        Self { activation: mlp.activation, layers }
    }

    /// The network, checked strictly against `config`'s layer sizes: every layer's declared
    /// features and activation, finite parameters, PReLU slopes only under PReLU, and the
    /// activation's parameter within the range a config allows.
    pub fn to_mlp(&self, config: &RunConfig) -> Result<Mlp<f32>, NetworkFileError> {
        check_activation(self.activation, config)?;
        let sizes = config.layer_sizes();
        if self.layers.len() + 1 != sizes.len() {
            return Err(NetworkFileError::LayerCount { found: self.layers.len(), expected: sizes.len() - 1 });
        }
        let slope = self.activation.initial_prelu_slope() as f32;
        let hidden = self.layers.len() - 1;
        let is_prelu = matches!(self.activation, Activation::Prelu { .. });
        let layers = self
            .layers
            .iter()
            .zip(sizes.windows(2))
            .enumerate()
            .map(|(index, (layer, pair))| {
                let expected_activation = if index < hidden { self.activation.kind().key() } else { "linear" };
                let takes_slopes = is_prelu && index < hidden;
                layer
                    .to_dense((pair[0], pair[1]), expected_activation, takes_slopes, slope)
                    .map_err(|problem| NetworkFileError::Layer { layer: index + 1, problem })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Mlp { layers, activation: self.activation, numerics: config.numerics() })
    }
}

/// Checks `activation` as a config would: a known kind and its parameter in range.
fn check_activation(activation: Activation, config: &RunConfig) -> Result<(), NetworkFileError> {
    let mut checked = config.clone();
    checked.network.activation = activation.kind();
    checked.network.activation_parameter = activation.parameter();
    checked.validate().map_err(NetworkFileError::Activation)
}

impl NetworkFile {
    /// The network `mlp` of a run with settings `config`, at step `step`.
    pub fn new(mlp: &Mlp<f32>, config: &RunConfig, step: u64) -> Self {
        let NetworkWeights { activation, layers } = NetworkWeights::of(mlp);
        Self {
            format: NETWORK_FORMAT.to_owned(),
            version: NETWORK_VERSION,
            step,
            activation,
            config: config.clone(),
            layers,
        }
    }

    /// This file as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// Parses and checks a network file (a leading UTF-8 byte-order mark, which some editors
    /// write, is skipped).
    pub fn from_json(text: &str) -> Result<Self, NetworkFileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file: Self = serde_json::from_str(text).map_err(|error| NetworkFileError::Parse(error.to_string()))?;
        if file.format != NETWORK_FORMAT || file.version != NETWORK_VERSION {
            return Err(NetworkFileError::Format { format: file.format, version: file.version });
        }
        file.config.validate().map_err(NetworkFileError::Config)?;
        check_activation(file.activation, &file.config)?;
        let config = file.config.network.activation();
        if file.activation != config {
            return Err(NetworkFileError::ActivationMismatch { file: file.activation, config });
        }
        file.to_mlp()?;
        Ok(file)
    }

    /// The weights alone.
    pub fn weights(&self) -> NetworkWeights {
        NetworkWeights { activation: self.activation, layers: self.layers.clone() }
    }

    /// The network, checked against the config (see [`NetworkWeights::to_mlp`]).
    pub fn to_mlp(&self) -> Result<Mlp<f32>, NetworkFileError> {
        self.weights().to_mlp(&self.config)
    }
}

impl LayerFile {
    fn to_dense(
        &self,
        (n_in, n_out): (usize, usize),
        expected_activation: &str,
        takes_slopes: bool,
        default_slope: f32,
    ) -> Result<Dense<f32>, String> {
        if (self.in_features, self.out_features) != (n_in, n_out) {
            return Err(format!(
                "declares {} inputs and {} outputs; the config needs {n_in} and {n_out}",
                self.in_features, self.out_features
            ));
        }
        if self.activation != expected_activation {
            return Err(format!("activation \"{}\" should be \"{expected_activation}\"", self.activation));
        }
        if self.weight.len() != n_out || self.weight.iter().any(|row| row.len() != n_in) || self.bias.len() != n_out {
            return Err(format!("expected {n_out} x {n_in} weights and {n_out} biases"));
        }
        let values = self.weight.iter().chain(std::iter::once(&self.bias)).flatten();
        if !values.into_iter().all(|v| v.is_finite()) {
            return Err("a weight or bias is not a finite number".to_owned());
        }
        let weights = Array2::from_shape_fn((n_in, n_out), |(i, j)| self.weight[j][i]);
        let prelu_slopes = match (&self.prelu_weight, takes_slopes) {
            (Some(slopes), true) if slopes.len() == n_out => {
                if !slopes.iter().all(|a| a.is_finite() && a.abs() <= MAX_PRELU_SLOPE) {
                    return Err(format!(
                        "every PReLU slope must be a finite number from -{MAX_PRELU_SLOPE} to {MAX_PRELU_SLOPE}"
                    ));
                }
                Array1::from(slopes.clone())
            }
            (Some(_), true) => return Err(format!("expected {n_out} PReLU slopes")),
            (Some(_), false) => return Err("has PReLU slopes, but the layer is not a PReLU layer".to_owned()),
            (None, _) => Array1::from_elem(n_out, default_slope),
        };
        Ok(Dense { weights, biases: Array1::from(self.bias.clone()), prelu_slopes })
    }
}

/// The CSV header for `layers` hidden layers (the columns of `relu-lab run --csv`).
pub fn csv_header(layers: usize) -> String {
    let mut text = "step,epoch,learning_rate,train_loss,test_loss,train_accuracy,test_accuracy".to_owned();
    for layer in 1..=layers {
        let _ = write!(
            text,
            ",l{layer}_alive,l{layer}_dying,l{layer}_below_zero,l{layer}_dead,l{layer}_saturated,\
             l{layer}_all_negative,l{layer}_revived,l{layer}_grad_norm"
        );
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
        let _ = write!(
            text,
            ",{},{},{},{},{},{},{},{}",
            layer.alive,
            layer.dying,
            layer.below_zero,
            layer.dead,
            layer.saturated,
            layer.all_negative,
            layer.revived,
            layer.gradient_norm
        );
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
                "alive": layer.alive, "dying": layer.dying, "below_zero": layer.below_zero, "dead": layer.dead,
                "saturated": layer.saturated, "all_negative": layer.all_negative, "revived": layer.revived,
                "grad_norm": layer.gradient_norm,
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
