//! The run config: everything that defines a run before any command arrives. Read from TOML,
//! checked at the edge: a config that passes [`RunConfig::validate`] can build a session.

use serde::{Deserialize, Serialize};

use crate::data::{DataSpec, DatasetKind, MAX_NOISE, MAX_POINTS, MIN_POINTS};
use crate::nn::{Activation, ActivationKind, Decay, Init, Numerics, OptimizerKind};

/// The most hidden layers a network may have.
pub const MAX_HIDDEN_LAYERS: usize = 32;
/// The widest a hidden layer may be.
pub const MAX_WIDTH: usize = 512;
/// The largest learning rate a config may set.
pub const MAX_LEARNING_RATE: f64 = 100.0;
/// The largest initial bias (in absolute value) a config may set.
pub const MAX_INITIAL_BIAS: f64 = 100.0;

/// A config field with a value outside its allowed range, or a file that does not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A field's value is not allowed.
    #[error("{field} = {value}: {allowed}")]
    Invalid {
        /// The field's dotted path, as in the TOML file (`training.learning_rate`).
        field: &'static str,
        /// The rejected value, as written.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// The TOML did not parse (syntax, unknown field, wrong type).
    #[error("{0}")]
    Parse(String),
}

/// Everything that defines a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// A sentence on what this run shows (for presets).
    pub description: String,
    /// Seeds the data, the initial weights and the batch order.
    pub seed: u64,
    /// The dataset.
    pub data: DataConfig,
    /// The network.
    pub network: NetworkConfig,
    /// The optimizer and its schedule.
    pub training: TrainingConfig,
}

/// The dataset part of a [`RunConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Which dataset.
    pub dataset: DatasetKind,
    /// Points in all (100 to 2000).
    pub points: usize,
    /// Noise, 0 to 0.5.
    pub noise: f64,
    /// Fraction used for training, 0.1 to 0.9; the rest is the test set.
    pub train_fraction: f64,
    /// Scale each input feature to zero mean and unit variance (figures from the training
    /// split) before the network sees it. Tiles and the output map keep the original axes.
    pub standardize: bool,
}

/// The network part of a [`RunConfig`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// The width of each hidden layer, input side first.
    pub hidden_layers: Vec<usize>,
    /// The hidden activation.
    pub activation: ActivationKind,
    /// The activation's parameter (Leaky slope, PReLU initial slope, ELU alpha); its default
    /// when absent.
    pub activation_parameter: Option<f64>,
    /// How weights are drawn.
    pub init: Init,
    /// Every hidden bias starts here (added to RAI's own draw under RAI).
    pub initial_bias: f64,
    /// Added to every hidden bias after initialization: the live bias slider's position.
    pub bias_offset: f64,
}

/// Which optimizer a config names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerName {
    /// Plain SGD.
    #[default]
    Sgd,
    /// SGD with momentum.
    Momentum,
    /// Adam.
    Adam,
}

/// The training part of a [`RunConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingConfig {
    /// Which optimizer.
    pub optimizer: OptimizerName,
    /// Momentum, for the momentum optimizer, in [0, 1).
    pub momentum: f64,
    /// The learning rate, in (0, 100].
    pub learning_rate: f64,
    /// How the learning rate decays.
    pub decay: Decay,
    /// Examples per step, at least 1 (at most the training set).
    pub batch_size: usize,
    /// Gradient-norm clipping: when the gradient of all parameters together is longer than
    /// this, it is scaled down to this length before the update. Off when absent.
    pub clip_gradient_norm: Option<f64>,
    /// `"portable"` (the same bits on every machine) or `"fast"` (this machine's matrix
    /// kernels for large layers). Absent: chosen by the network's size
    /// ([`Numerics::for_layer_sizes`]); see [`RunConfig::numerics`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numerics: Option<Numerics>,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            description: String::new(),
            seed: 1,
            data: DataConfig::default(),
            network: NetworkConfig::default(),
            training: TrainingConfig::default(),
        }
    }
}

impl Default for DataConfig {
    fn default() -> Self {
        Self { dataset: DatasetKind::Circle, points: 500, noise: 0.0, train_fraction: 0.5, standardize: false }
    }
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            hidden_layers: vec![8, 8],
            activation: ActivationKind::Relu,
            activation_parameter: None,
            init: Init::HeNormal,
            initial_bias: 0.0,
            bias_offset: 0.0,
        }
    }
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerName::Sgd,
            momentum: 0.9,
            learning_rate: 0.03,
            decay: Decay::None,
            batch_size: 10,
            clip_gradient_norm: None,
            numerics: None,
        }
    }
}

/// The longest a rejected value is quoted in an error message.
const MAX_QUOTED_VALUE_CHARS: usize = 60;

fn invalid(field: &'static str, value: impl std::fmt::Display, allowed: impl Into<String>) -> ConfigError {
    let mut value = value.to_string();
    if value.chars().count() > MAX_QUOTED_VALUE_CHARS {
        value =
            format!("{}… ({} characters)", value.chars().take(MAX_QUOTED_VALUE_CHARS).collect::<String>(), value.len());
    }
    ConfigError::Invalid { field, value, allowed: allowed.into() }
}

fn check_range(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(field, value, format!("must be a number from {min} to {max}")))
    }
}

impl RunConfig {
    /// Parses and validates a TOML config.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|error| ConfigError::Parse(error.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// This config as TOML.
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|error| format!("# not serializable: {error}"))
    }

    /// Checks every field against its allowed range, naming the first one that is out of it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.data.validate()?;
        self.network.validate()?;
        self.training.validate()?;
        let n_train = self.data.train_points();
        if self.training.batch_size > n_train {
            return Err(invalid(
                "training.batch_size",
                self.training.batch_size,
                format!("must be at most the {n_train} training points"),
            ));
        }
        Ok(())
    }

    /// The numerics the network trains with: the config's, or the default for its size.
    pub fn numerics(&self) -> Numerics {
        self.training.numerics.unwrap_or_else(|| Numerics::for_layer_sizes(&self.layer_sizes()))
    }

    /// Layer sizes: input, hidden..., output.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.data.dataset.input_size()];
        sizes.extend(&self.network.hidden_layers);
        sizes.push(1);
        sizes
    }
}

impl DataConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(MIN_POINTS..=MAX_POINTS).contains(&self.points) {
            return Err(invalid(
                "data.points",
                self.points,
                format!("must be a whole number from {MIN_POINTS} to {MAX_POINTS}"),
            ));
        }
        check_range("data.noise", self.noise, 0.0, MAX_NOISE)?;
        check_range("data.train_fraction", self.train_fraction, 0.1, 0.9)
    }

    /// How many points the training set gets.
    pub fn train_points(&self) -> usize {
        ((self.points as f64 * self.train_fraction).round() as usize).clamp(1, self.points)
    }

    /// What the data generator needs.
    pub fn spec(&self) -> DataSpec {
        DataSpec {
            kind: self.dataset,
            points: self.points,
            noise: self.noise,
            train_fraction: self.train_fraction,
            standardize: self.standardize,
        }
    }
}

impl NetworkConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let depth = self.hidden_layers.len();
        if !(1..=MAX_HIDDEN_LAYERS).contains(&depth) {
            return Err(invalid(
                "network.hidden_layers",
                format!("{:?}", self.hidden_layers),
                format!("must list from 1 to {MAX_HIDDEN_LAYERS} layer widths"),
            ));
        }
        if let Some(&width) = self.hidden_layers.iter().find(|&&w| !(1..=MAX_WIDTH).contains(&w)) {
            return Err(invalid("network.hidden_layers", width, format!("every width must be from 1 to {MAX_WIDTH}")));
        }
        if let Some(parameter) = self.activation_parameter {
            match self.activation.parameter() {
                Some(spec) => check_range("network.activation_parameter", parameter, spec.min, spec.max)?,
                None => {
                    return Err(invalid(
                        "network.activation_parameter",
                        parameter,
                        format!("{} takes no parameter: remove the field", self.activation.label()),
                    ));
                }
            }
        }
        check_range("network.initial_bias", self.initial_bias, -MAX_INITIAL_BIAS, MAX_INITIAL_BIAS)?;
        check_range("network.bias_offset", self.bias_offset, -MAX_INITIAL_BIAS, MAX_INITIAL_BIAS)
    }

    /// The hidden activation with its parameter.
    pub fn activation(&self) -> Activation {
        match self.activation_parameter {
            Some(parameter) => self.activation.with_parameter(parameter),
            None => self.activation.with_default_parameter(),
        }
    }
}

impl TrainingConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        check_learning_rate(self.learning_rate)?;
        if let Some(norm) = self.clip_gradient_norm {
            check_range("training.clip_gradient_norm", norm, MIN_CLIP_GRADIENT_NORM, MAX_CLIP_GRADIENT_NORM)?;
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(invalid("training.momentum", self.momentum, "must be from 0 to below 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("training.batch_size", 0, "must be at least 1"));
        }
        validate_decay(self.decay)
    }

    /// The optimizer with its parameters.
    pub fn optimizer_kind(&self) -> OptimizerKind {
        match self.optimizer {
            OptimizerName::Sgd => OptimizerKind::Sgd,
            OptimizerName::Momentum => OptimizerKind::Momentum { momentum: self.momentum },
            OptimizerName::Adam => OptimizerKind::ADAM,
        }
    }
}

/// The smallest learning rate: the smallest one at which a step with a gradient of 1 moves a
/// weight of 1 at all, 2^-25 (1 + 2^-23) ≈ 2.98e-8.
///
/// Weights are `f32`, and a step is `w -= rate * gradient` rounded to the nearest `f32`. It
/// changes `w` only if `rate * |gradient|` is more than half the spacing of `f32` next to `w`.
/// Just below 1 that spacing is 2^-24 (`f32::EPSILON / 2`), so a step of 2^-25 is a tie that
/// rounds back to 1 (the even neighbour) and anything smaller does too. Weights here are of
/// order 1 and gradients of order 1 or less (a logistic loss gives each output at most 1), so
/// below this rate a weight of 1 or more never moves by a single bit while the screen shows a
/// rate; the tests below check it in `f32` arithmetic.
pub const MIN_LEARNING_RATE: f64 = smallest_rate_that_moves_one();

const fn smallest_rate_that_moves_one() -> f64 {
    let tie = f32::EPSILON / 4.0;
    f32::from_bits(tie.to_bits() + 1) as f64
}

/// [`MIN_LEARNING_RATE`] rounded up to one significant digit, as a user would type it
/// ("3e-8"); the README quotes it.
pub fn min_learning_rate_text() -> String {
    let exponent = MIN_LEARNING_RATE.log10().floor() as i32;
    let digit = (MIN_LEARNING_RATE / 10_f64.powi(exponent)).ceil() as i32;
    if digit >= 10 { format!("1e{}", exponent + 1) } else { format!("{digit}e{exponent}") }
}

/// The shortest gradient a clipping setting may allow.
pub const MIN_CLIP_GRADIENT_NORM: f64 = 1e-3;
/// The longest gradient a clipping setting may allow.
pub const MAX_CLIP_GRADIENT_NORM: f64 = 1e6;

/// Checks a learning rate: finite, at least [`MIN_LEARNING_RATE`], at most [`MAX_LEARNING_RATE`].
pub fn check_learning_rate(rate: f64) -> Result<(), ConfigError> {
    if rate.is_finite() && (MIN_LEARNING_RATE..=MAX_LEARNING_RATE).contains(&rate) {
        Ok(())
    } else if rate.is_finite() && rate > 0.0 && rate < MIN_LEARNING_RATE {
        Err(invalid(
            "training.learning_rate",
            format!("{rate:e}"),
            format!(
                "is too small to move a weight: weights are 32-bit floats, and with a gradient of 1 or less a \
                 step this small changes a weight of 1 by at most half the gap between neighbouring 32-bit \
                 floats there (the gap is 2^-24), so the weight rounds back to the same value; use {} or more",
                min_learning_rate_text()
            ),
        ))
    } else {
        Err(invalid(
            "training.learning_rate",
            rate,
            format!("must be a number above 0 and at most {MAX_LEARNING_RATE}"),
        ))
    }
}

/// Checks a decay schedule's parameters.
pub fn validate_decay(decay: Decay) -> Result<(), ConfigError> {
    match decay {
        Decay::None => Ok(()),
        Decay::Step { every_steps, factor } => {
            if every_steps == 0 {
                return Err(invalid("training.decay.every_steps", 0, "must be at least 1"));
            }
            if !(factor.is_finite() && factor > 0.0 && factor <= 1.0) {
                return Err(invalid("training.decay.factor", factor, "must be above 0 and at most 1"));
            }
            Ok(())
        }
        Decay::Exponential { half_life_steps } => {
            if half_life_steps.is_finite() && half_life_steps >= 1.0 {
                Ok(())
            } else {
                Err(invalid("training.decay.half_life_steps", half_life_steps, "must be a number of at least 1"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_round_trips() {
        let config = RunConfig::default();
        config.validate().unwrap();
        assert_eq!(RunConfig::from_toml_str(&config.to_toml_string()).unwrap(), config);
    }

    #[test]
    fn numerics_follow_the_network_size_unless_set() {
        let mut config = RunConfig::default();
        assert_eq!(config.numerics(), Numerics::Portable);
        config.network.hidden_layers = vec![256, 256];
        assert_eq!(config.numerics(), Numerics::Fast);
        let set = RunConfig::from_toml_str("[network]\nhidden_layers = [256]\n[training]\nnumerics = \"portable\"\n")
            .unwrap();
        assert_eq!(set.numerics(), Numerics::Portable);
        assert!(set.to_toml_string().contains("numerics = \"portable\""));
        let error = RunConfig::from_toml_str("[training]\nnumerics = \"fastest\"\n").unwrap_err();
        assert!(error.to_string().contains("unknown variant `fastest`, expected `portable` or `fast`"), "{error}");
    }

    #[test]
    fn a_negative_learning_rate_names_its_field() {
        let error = RunConfig::from_toml_str("[training]\nlearning_rate = -1.0\n").unwrap_err();
        assert!(error.to_string().contains("training.learning_rate"), "{error}");
    }

    #[test]
    fn the_smallest_rate_moves_a_weight_of_one_and_the_next_smaller_does_not() {
        let rate = MIN_LEARNING_RATE as f32;
        assert_eq!(f64::from(rate), MIN_LEARNING_RATE, "the floor is an f32 value");
        let gradient = 1.0_f32;
        assert!(1.0_f32 - rate * gradient < 1.0);
        let below = f32::from_bits(rate.to_bits() - 1);
        for weight in [1.0_f32, -1.0, 1.5, 3.0, 100.0] {
            assert_eq!(weight - below * gradient, weight, "{weight}");
            assert_eq!(weight - below * gradient * 0.5, weight, "{weight}");
        }
        assert_eq!(1.0_f32 - 1.2e-38_f32, 1.0);
    }

    #[test]
    fn a_rate_that_cannot_move_a_weight_is_refused_saying_why() {
        for rate in [1.2e-38, 1e-20, 2.98e-8] {
            let message = check_learning_rate(rate).unwrap_err().to_string();
            assert!(message.contains("too small to move a weight"), "{message}");
            assert!(message.contains("32-bit"), "{message}");
            assert!(message.contains(&format!("use {} or more", min_learning_rate_text())), "{message}");
        }
        check_learning_rate(MIN_LEARNING_RATE).unwrap();
    }

    #[test]
    fn the_suggested_smallest_rate_is_accepted_and_rounds_the_floor_up() {
        let text = min_learning_rate_text();
        assert_eq!(text, "3e-8");
        let rate: f64 = text.parse().unwrap();
        check_learning_rate(rate).unwrap();
        assert!(rate >= MIN_LEARNING_RATE);
        assert!(1.0_f32 - (rate as f32) < 1.0);
    }
}
