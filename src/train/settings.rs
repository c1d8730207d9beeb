//! The settings table: one entry per setting a user can change, with everything the rest of
//! the program needs to know about it in one place: its path in a config file, its key in a
//! link and how a link writes its value, the control's label, whether changing it builds a new
//! network, and the session command that sets it. Share links, `compare --a/--b` assignments,
//! the commands that turn one config into another (forks, restarts, the seeds view), undo and
//! the controls all read it, so a new setting is one entry here plus the code that uses its
//! value.

use crate::data::DatasetKind;
use crate::nn::{ActivationKind, Decay, Init};

use super::command::SessionCommand;
use super::config::{ConfigError, OptimizerName, RunConfig};

/// A setting of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The seed of data, weights and batches.
    Seed,
    /// The hidden layer widths.
    Layers,
    /// The initializer.
    Init,
    /// The initial hidden bias.
    InitialBias,
    /// The dataset.
    Dataset,
    /// How many points.
    Points,
    /// The label noise.
    Noise,
    /// The share of points used for training.
    TrainFraction,
    /// Whether inputs are standardized.
    Standardize,
    /// The hidden activation.
    Activation,
    /// The activation's parameter (Leaky slope, PReLU initial slope, ELU alpha).
    ActivationParameter,
    /// The live bias offset.
    BiasOffset,
    /// The optimizer.
    Optimizer,
    /// The momentum (of the momentum optimizer).
    Momentum,
    /// The base learning rate.
    LearningRate,
    /// The learning-rate decay.
    Decay,
    /// The batch size.
    BatchSize,
    /// Gradient-norm clipping.
    Clip,
}

impl Setting {
    /// Every setting, those that build a new network first, then the data, then the live ones:
    /// the order in which [`commands_between`] applies them and a link lists them.
    pub const ALL: [Self; 18] = [
        Self::Seed,
        Self::Layers,
        Self::Init,
        Self::InitialBias,
        Self::Dataset,
        Self::Points,
        Self::Noise,
        Self::TrainFraction,
        Self::Standardize,
        Self::Activation,
        Self::ActivationParameter,
        Self::BiasOffset,
        Self::Optimizer,
        Self::Momentum,
        Self::LearningRate,
        Self::Decay,
        Self::BatchSize,
        Self::Clip,
    ];

    /// Its path in a config file (`training.learning_rate`); the part after the dot is its
    /// short key in an assignment.
    pub fn path(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::Layers => "network.hidden_layers",
            Self::Init => "network.init",
            Self::InitialBias => "network.initial_bias",
            Self::Dataset => "data.dataset",
            Self::Points => "data.points",
            Self::Noise => "data.noise",
            Self::TrainFraction => "data.train_fraction",
            Self::Standardize => "data.standardize",
            Self::Activation => "network.activation",
            Self::ActivationParameter => "network.activation_parameter",
            Self::BiasOffset => "network.bias_offset",
            Self::Optimizer => "training.optimizer",
            Self::Momentum => "training.momentum",
            Self::LearningRate => "training.learning_rate",
            Self::Decay => "training.decay",
            Self::BatchSize => "training.batch_size",
            Self::Clip => "training.clip_gradient_norm",
        }
    }

    /// Its key in an assignment such as `learning_rate = 0.3`.
    pub fn short_key(self) -> &'static str {
        let path = self.path();
        path.rsplit_once('.').map_or(path, |(_, key)| key)
    }

    /// The config section it sits in, if any.
    pub fn section(self) -> Option<&'static str> {
        self.path().split_once('.').map(|(section, _)| section)
    }

    /// The control's label in the app.
    pub fn label(self) -> &'static str {
        match self {
            Self::Seed => "Seed",
            Self::Layers => "Hidden layers",
            Self::Init => "Init (on reset)",
            Self::InitialBias => "Initial bias (on reset)",
            Self::Dataset => "Dataset",
            Self::Points => "Points",
            Self::Noise => "Noise",
            Self::TrainFraction => "Training fraction",
            Self::Standardize => "Standardize inputs",
            Self::Activation => "Activation",
            Self::ActivationParameter => "Activation parameter",
            Self::BiasOffset => "Bias offset",
            Self::Optimizer => "Optimizer",
            Self::Momentum => "Momentum",
            Self::LearningRate => "Learning rate",
            Self::Decay => "Learning-rate decay",
            Self::BatchSize => "Batch size",
            Self::Clip => "Clip at norm",
        }
    }

    /// Whether changing it builds a new network (and so starts a new run at step 0).
    pub fn rebuilds_network(self) -> bool {
        matches!(self, Self::Seed | Self::Layers | Self::Init | Self::InitialBias)
    }

    /// Its key in a link (`lr`); the activation's parameter travels with the activation.
    pub fn link_key(self) -> Option<&'static str> {
        let key = match self {
            Self::Seed => "seed",
            Self::Layers => "layers",
            Self::Init => "init",
            Self::InitialBias => "initial-bias",
            Self::Dataset => "dataset",
            Self::Points => "points",
            Self::Noise => "noise",
            Self::TrainFraction => "train",
            Self::Standardize => "standardize",
            Self::Activation => "activation",
            Self::ActivationParameter => return None,
            Self::BiasOffset => "bias",
            Self::Optimizer => "optimizer",
            Self::Momentum => "momentum",
            Self::LearningRate => "lr",
            Self::Decay => "decay",
            Self::BatchSize => "batch",
            Self::Clip => "clip",
        };
        Some(key)
    }

    /// The setting a link key names.
    pub fn from_link_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|setting| setting.link_key() == Some(key))
    }

    /// What a link value looks like, for messages.
    pub fn link_form(self) -> &'static str {
        match self {
            Self::Seed => "a whole number such as 4",
            Self::LearningRate => "a number such as 0.03",
            Self::Decay => "none, exp:HALF_LIFE_STEPS (exp:2000) or step:EVERY_STEPS:FACTOR (step:1000:0.5)",
            Self::BiasOffset | Self::InitialBias => "a number such as -5",
            Self::Activation => "an activation such as relu, leaky-relu:0.1 or elu:1",
            Self::ActivationParameter => "a number such as 0.1",
            Self::Optimizer => "sgd, momentum or adam",
            Self::Momentum => "a number from 0 to below 1, such as 0.9",
            Self::BatchSize | Self::Points => "a whole number",
            Self::Clip => "off or a gradient norm such as 1",
            Self::Dataset => "circle, xor, gaussians, spiral, moons, abs, sine or step",
            Self::Noise => "a number from 0 to 0.5",
            Self::TrainFraction => "the training share, from 0.1 to 0.9",
            Self::Standardize => "true or false",
            Self::Layers => "hidden layer widths separated by commas, such as 8,8",
            Self::Init => "he-normal, he-uniform, xavier-uniform, uniform or rai",
        }
    }

    /// Its value in `config` as a link writes it.
    pub fn link_value(self, config: &RunConfig) -> String {
        let (data, network, training) = (&config.data, &config.network, &config.training);
        match self {
            Self::Seed => config.seed.to_string(),
            Self::LearningRate => training.learning_rate.to_string(),
            Self::Decay => match training.decay {
                Decay::None => "none".to_owned(),
                Decay::Exponential { half_life_steps } => format!("exp:{half_life_steps}"),
                Decay::Step { every_steps, factor } => format!("step:{every_steps}:{factor}"),
            },
            Self::BiasOffset => network.bias_offset.to_string(),
            Self::Activation => match network.activation_parameter {
                Some(parameter) => format!("{}:{parameter}", network.activation.key()),
                None => network.activation.key().to_owned(),
            },
            Self::ActivationParameter => network.activation_parameter.map(|p| p.to_string()).unwrap_or_default(),
            Self::Optimizer => optimizer_key(training.optimizer).to_owned(),
            Self::Momentum => training.momentum.to_string(),
            Self::BatchSize => training.batch_size.to_string(),
            Self::Clip => training.clip_gradient_norm.map_or_else(|| "off".to_owned(), |norm| norm.to_string()),
            Self::Dataset => data.dataset.key().to_owned(),
            Self::Points => data.points.to_string(),
            Self::Noise => data.noise.to_string(),
            Self::TrainFraction => data.train_fraction.to_string(),
            Self::Standardize => data.standardize.to_string(),
            Self::Layers => network.hidden_layers.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            Self::Init => network.init.key().to_owned(),
            Self::InitialBias => network.initial_bias.to_string(),
        }
    }

    /// Reads a link's `value` into `config`; `Err` if it does not read (whether it is in range
    /// is the config's own check, made by the caller).
    pub fn set_from_link(self, config: &mut RunConfig, value: &str) -> Result<(), UnreadableValue> {
        let (data, network, training) = (&mut config.data, &mut config.network, &mut config.training);
        match self {
            Self::Seed => config.seed = whole(value)?,
            Self::LearningRate => training.learning_rate = number(value)?,
            Self::Decay => training.decay = decay(value)?,
            Self::BiasOffset => network.bias_offset = number(value)?,
            Self::Activation => {
                let (kind, parameter) = match value.split_once(':') {
                    Some((kind, parameter)) => (kind, Some(number(parameter)?)),
                    None => (value, None),
                };
                network.activation = ActivationKind::from_key(kind).ok_or(UnreadableValue)?;
                network.activation_parameter = parameter;
            }
            Self::ActivationParameter => network.activation_parameter = Some(number(value)?),
            Self::Optimizer => {
                training.optimizer = [OptimizerName::Sgd, OptimizerName::Momentum, OptimizerName::Adam]
                    .into_iter()
                    .find(|&name| optimizer_key(name) == value)
                    .ok_or(UnreadableValue)?;
            }
            Self::Momentum => training.momentum = number(value)?,
            Self::BatchSize => training.batch_size = whole(value)?,
            Self::Clip => training.clip_gradient_norm = if value == "off" { None } else { Some(number(value)?) },
            Self::Dataset => {
                data.dataset = DatasetKind::ALL.into_iter().find(|kind| kind.key() == value).ok_or(UnreadableValue)?;
            }
            Self::Points => data.points = whole(value)?,
            Self::Noise => data.noise = number(value)?,
            Self::TrainFraction => data.train_fraction = number(value)?,
            Self::Standardize => data.standardize = value.parse().map_err(|_| UnreadableValue)?,
            Self::Layers => {
                network.hidden_layers = value.split(',').map(|width| whole(width.trim())).collect::<Result<_, _>>()?;
            }
            Self::Init => network.init = Init::from_key(value).ok_or(UnreadableValue)?,
            Self::InitialBias => network.initial_bias = number(value)?,
        }
        Ok(())
    }

    /// Its value in `config` as a sentence writes it: "3", "-5", "Leaky ReLU (0.1)", "He normal",
    /// "halves every 1500 steps", "off".
    pub fn prose_value(self, config: &RunConfig) -> String {
        let (network, training) = (&config.network, &config.training);
        match self {
            Self::Activation => network.activation().to_string(),
            Self::ActivationParameter => network.activation().parameter().map_or_else(|| "none".to_owned(), short),
            Self::Init => network.init.label().to_owned(),
            Self::Decay => training.decay.label(),
            Self::Optimizer => training.optimizer_kind().label().to_owned(),
            Self::Dataset => config.data.dataset.label().to_owned(),
            Self::LearningRate => short(training.learning_rate),
            Self::BiasOffset => short(network.bias_offset),
            Self::InitialBias => short(network.initial_bias),
            Self::Clip => training.clip_gradient_norm.map_or_else(|| "off".to_owned(), short),
            Self::Noise => short(config.data.noise),
            Self::Momentum => short(training.momentum),
            Self::TrainFraction => short(config.data.train_fraction),
            Self::Seed | Self::Layers | Self::Points | Self::Standardize | Self::BatchSize => self.link_value(config),
        }
    }

    /// The setting whose short key is `key` (`learning_rate`).
    pub fn from_short_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|setting| setting.short_key() == key)
    }

    /// Whether `a` and `b` differ in this setting, as the run sees it (the momentum of an
    /// optimizer that has none does not count).
    pub fn differs(self, a: &RunConfig, b: &RunConfig) -> bool {
        let (an, bn, at, bt) = (&a.network, &b.network, &a.training, &b.training);
        match self {
            Self::Seed => a.seed != b.seed,
            Self::Layers => an.hidden_layers != bn.hidden_layers,
            Self::Init => an.init != bn.init,
            Self::InitialBias => an.initial_bias != bn.initial_bias,
            Self::Dataset => a.data.dataset != b.data.dataset,
            Self::Points => a.data.points != b.data.points,
            Self::Noise => a.data.noise != b.data.noise,
            Self::TrainFraction => a.data.train_fraction != b.data.train_fraction,
            Self::Standardize => a.data.standardize != b.data.standardize,
            Self::Activation | Self::ActivationParameter => an.activation() != bn.activation(),
            Self::BiasOffset => an.bias_offset != bn.bias_offset,
            Self::Optimizer | Self::Momentum => at.optimizer_kind() != bt.optimizer_kind(),
            Self::LearningRate => at.learning_rate != bt.learning_rate,
            Self::Decay => at.decay != bt.decay,
            Self::BatchSize => at.batch_size != bt.batch_size,
            Self::Clip => at.clip_gradient_norm != bt.clip_gradient_norm,
        }
    }

    /// The command that sets this setting to its value in `to` (the data settings share one
    /// command, as do the activation and its parameter, and the optimizer and its momentum).
    pub fn command_to(self, to: &RunConfig) -> SessionCommand {
        let (network, training) = (&to.network, &to.training);
        match self {
            Self::Seed => SessionCommand::Reset { seed: Some(to.seed) },
            Self::Layers => SessionCommand::SetArchitecture { hidden_layers: network.hidden_layers.clone() },
            Self::Init => SessionCommand::SetInit { init: network.init },
            Self::InitialBias => SessionCommand::SetInitialBias { initial_bias: network.initial_bias },
            Self::Dataset | Self::Points | Self::Noise | Self::TrainFraction | Self::Standardize => {
                SessionCommand::SetData { data: to.data }
            }
            Self::Activation | Self::ActivationParameter => {
                SessionCommand::SetActivation { activation: network.activation() }
            }
            Self::BiasOffset => SessionCommand::SetBiasOffset { bias_offset: network.bias_offset },
            Self::Optimizer | Self::Momentum => SessionCommand::SetOptimizer { optimizer: training.optimizer_kind() },
            Self::LearningRate => SessionCommand::SetLearningRate { learning_rate: training.learning_rate },
            Self::Decay => SessionCommand::SetDecay { decay: training.decay },
            Self::BatchSize => SessionCommand::SetBatchSize { batch_size: training.batch_size },
            Self::Clip => SessionCommand::SetGradientClipping { max_norm: training.clip_gradient_norm },
        }
    }

    /// The setting a command changes, if it changes one (a revive or an undo does not).
    pub fn of_command(command: &SessionCommand) -> Option<Self> {
        let setting = match command {
            SessionCommand::Reset { seed: Some(_) } => Self::Seed,
            SessionCommand::SetArchitecture { .. } => Self::Layers,
            SessionCommand::SetInit { .. } => Self::Init,
            SessionCommand::SetInitialBias { .. } => Self::InitialBias,
            SessionCommand::SetData { .. } => Self::Dataset,
            SessionCommand::SetActivation { .. } => Self::Activation,
            SessionCommand::SetBiasOffset { .. } => Self::BiasOffset,
            SessionCommand::SetOptimizer { .. } => Self::Optimizer,
            SessionCommand::SetLearningRate { .. } => Self::LearningRate,
            SessionCommand::SetDecay { .. } => Self::Decay,
            SessionCommand::SetBatchSize { .. } => Self::BatchSize,
            SessionCommand::SetGradientClipping { .. } => Self::Clip,
            SessionCommand::Reset { seed: None }
            | SessionCommand::ReviveNeuron { .. }
            | SessionCommand::ReviveDead
            | SessionCommand::Undo => return None,
        };
        Some(setting)
    }

    /// The command that would set back what `command` changes, from the settings `now`; `None`
    /// for commands that cannot be undone (those that build a new network, revivals, undo).
    pub fn inverse(command: &SessionCommand, now: &RunConfig) -> Option<SessionCommand> {
        Self::of_command(command).filter(|setting| !setting.rebuilds_network()).map(|setting| setting.command_to(now))
    }
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

/// A link value that does not read as its setting's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the value does not read")]
pub struct UnreadableValue;

/// A finite number.
fn number(text: &str) -> Result<f64, UnreadableValue> {
    text.trim().parse::<f64>().ok().filter(|value| value.is_finite()).ok_or(UnreadableValue)
}

/// A whole number.
fn whole<T: std::str::FromStr>(text: &str) -> Result<T, UnreadableValue> {
    text.trim().parse().map_err(|_| UnreadableValue)
}

/// `none`, `exp:HALF_LIFE` or `step:EVERY:FACTOR`.
fn decay(text: &str) -> Result<Decay, UnreadableValue> {
    let mut parts = text.split(':');
    let decay = match (parts.next(), parts.next(), parts.next()) {
        (Some("none"), None, None) => Decay::None,
        (Some("exp"), Some(half_life), None) => Decay::Exponential { half_life_steps: number(half_life)? },
        (Some("step"), Some(every), Some(factor)) => {
            Decay::Step { every_steps: whole(every)?, factor: number(factor)? }
        }
        _ => return Err(UnreadableValue),
    };
    if parts.next().is_some() {
        return Err(UnreadableValue);
    }
    Ok(decay)
}

fn optimizer_key(name: OptimizerName) -> &'static str {
    match name {
        OptimizerName::Sgd => "sgd",
        OptimizerName::Momentum => "momentum",
        OptimizerName::Adam => "adam",
    }
}

/// The commands that turn a run on `from` into a run on `to`: those that build a new network
/// first, then the data, then the live settings. Applied to a session on `from`, its settings
/// become `to`'s (the description aside).
pub fn commands_between(from: &RunConfig, to: &RunConfig) -> Vec<SessionCommand> {
    let mut commands: Vec<SessionCommand> = Vec::new();
    for setting in Setting::ALL {
        if setting.differs(from, to) {
            let command = setting.command_to(to);
            if !commands.contains(&command) {
                commands.push(command);
            }
        }
    }
    commands
}

/// The settings that differ between `from` and `to`, each once per command (the data settings
/// as one, and so on).
pub fn settings_between(from: &RunConfig, to: &RunConfig) -> Vec<Setting> {
    let mut settings: Vec<Setting> = Vec::new();
    let mut commands: Vec<SessionCommand> = Vec::new();
    for setting in Setting::ALL {
        if setting.differs(from, to) {
            let command = setting.command_to(to);
            if !commands.contains(&command) {
                commands.push(command);
                settings.push(setting);
            }
        }
    }
    settings
}

/// Why an assignment such as `activation = "leaky-relu"` could not be applied.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AssignmentError {
    /// Not of the form `key = value` in TOML.
    #[error("'{assignment}' is not a TOML assignment such as 'activation = \"leaky-relu\"': {reason}")]
    Syntax {
        /// The text given.
        assignment: String,
        /// What the TOML parser said.
        reason: String,
    },
    /// A key that names no setting.
    #[error("'{key}' is not a setting; the settings are {}", setting_keys())]
    UnknownKey {
        /// The key given.
        key: String,
    },
    /// An assignment that sets nothing, such as an empty table.
    #[error("'{assignment}' sets no setting; write a key and a value such as 'learning_rate = 0.3'")]
    SetsNothing {
        /// The text given.
        assignment: String,
    },
    /// The config with the assignment is invalid.
    #[error("after '{assignment}': {error}")]
    Invalid {
        /// The text given.
        assignment: String,
        /// Why the config is invalid.
        error: ConfigError,
    },
}

/// Every setting's short key, for messages.
fn setting_keys() -> String {
    Setting::ALL.map(Setting::short_key).join(", ")
}

/// `config` with each `key = value` assignment applied, in order. Keys are a setting's path
/// (`network.activation`, `training.learning_rate`, `seed`) or its short key (`activation`,
/// `learning_rate`, `init`), or `description`.
pub fn with_assignments(config: &RunConfig, assignments: &[String]) -> Result<RunConfig, AssignmentError> {
    let mut current = config.clone();
    for assignment in assignments {
        current = with_assignment(&current, assignment)?;
    }
    Ok(current)
}

fn with_assignment(config: &RunConfig, assignment: &str) -> Result<RunConfig, AssignmentError> {
    let syntax = |reason: String| AssignmentError::Syntax { assignment: assignment.to_owned(), reason };
    let given: toml::Table = toml::from_str(assignment).map_err(|error| syntax(error.to_string().trim().to_owned()))?;
    let mut table = toml::Table::try_from(config).map_err(|error| syntax(error.to_string()))?;
    let mut leaves = Vec::new();
    flatten(String::new(), toml::Value::Table(given), &mut leaves);
    if leaves.is_empty() {
        return Err(AssignmentError::SetsNothing { assignment: assignment.to_owned() });
    }
    for (key, value) in leaves {
        let path = resolve(&key).ok_or_else(|| AssignmentError::UnknownKey { key: key.clone() })?;
        put(&mut table, path, value);
    }
    let text = toml::to_string(&table).map_err(|error| syntax(error.to_string()))?;
    RunConfig::from_toml_str(&text)
        .map_err(|error| AssignmentError::Invalid { assignment: assignment.to_owned(), error })
}

/// The config path a key names: a setting's path or short key, or `description`. A setting
/// whose value is a table (the decay) is a leaf, not a section.
fn resolve(key: &str) -> Option<&'static str> {
    if key == "description" {
        return Some("description");
    }
    Setting::ALL.into_iter().find(|setting| setting.path() == key || setting.short_key() == key).map(Setting::path)
}

/// The leaves of an assignment: `network.init = "rai"` and `[network] init = "rai"` both give
/// `("network.init", "rai")`; a setting whose value is a table (`decay = { … }`) is one leaf.
fn flatten(prefix: String, value: toml::Value, leaves: &mut Vec<(String, toml::Value)>) {
    match value {
        toml::Value::Table(fields) if resolve(&prefix).is_none() => {
            for (field, value) in fields {
                let key = if prefix.is_empty() { field } else { format!("{prefix}.{field}") };
                flatten(key, value, leaves);
            }
        }
        value => leaves.push((prefix, value)),
    }
}

/// Puts `value` at the dotted `path` of `table`.
fn put(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        None => {
            table.insert(path.to_owned(), value);
        }
        Some((section, rest)) => {
            let entry = table.entry(section.to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner) = entry {
                put(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Activation;
    use crate::train::Session;
    use crate::train::presets;

    fn preset(name: &str) -> RunConfig {
        presets::find(name).unwrap().config().unwrap()
    }

    #[test]
    fn short_numbers_read_well() {
        assert_eq!(short(0.03), "0.03");
        assert_eq!(short(3.0), "3");
        assert_eq!(short(0.000_123_456), "0.0001235");
        assert_eq!(short(1234.6), "1235");
    }

    #[test]
    fn every_setting_has_a_distinct_path_short_key_and_link_key() {
        let mut paths: Vec<&str> = Setting::ALL.map(Setting::path).to_vec();
        let mut short: Vec<&str> = Setting::ALL.map(Setting::short_key).to_vec();
        let mut links: Vec<&str> = Setting::ALL.iter().filter_map(|s| s.link_key()).collect();
        for list in [&mut paths, &mut short, &mut links] {
            let count = list.len();
            list.sort_unstable();
            list.dedup();
            assert_eq!(list.len(), count, "{list:?}");
        }
        // Every path names a field of a config file.
        let mut config = preset("high-learning-rate");
        config.network.activation_parameter = Some(0.1);
        config.training.clip_gradient_norm = Some(1.0);
        let table = toml::Table::try_from(&config).unwrap();
        for setting in Setting::ALL {
            let mut at = &toml::Value::Table(table.clone());
            for part in setting.path().split('.') {
                at = at.get(part).unwrap_or_else(|| panic!("{} is a config field", setting.path()));
            }
        }
    }

    #[test]
    fn short_and_dotted_keys_and_tables_set_the_config() {
        let config = preset("high-learning-rate");
        let b = with_assignments(
            &config,
            &["activation = \"leaky-relu\"".to_owned(), "training.learning_rate = 0.03".to_owned()],
        )
        .unwrap();
        assert_eq!(b.network.activation, ActivationKind::LeakyRelu);
        assert_eq!(b.training.learning_rate, 0.03);
        assert_eq!(b.network.hidden_layers, config.network.hidden_layers, "the rest is kept");
        let b = with_assignments(&config, &["network.init = \"rai\"".to_owned(), "seed = 4".to_owned()]).unwrap();
        assert_eq!((b.network.init, b.seed), (Init::Rai, 4));
        let b = with_assignments(&config, &["[network]\ninit = \"rai\"".to_owned()]).unwrap();
        assert_eq!(b.network.init, Init::Rai);
        let b = with_assignments(
            &config,
            &["activation = \"leaky-relu\"".to_owned(), "activation_parameter = 0.1".to_owned()],
        )
        .unwrap();
        assert_eq!(b.network.activation(), Activation::LeakyRelu { slope: 0.1 });
        let b = with_assignments(&config, &["decay = { kind = \"step\", every_steps = 100, factor = 0.5 }".to_owned()])
            .unwrap();
        assert_eq!(b.training.decay, Decay::Step { every_steps: 100, factor: 0.5 });
    }

    #[test]
    fn bad_assignments_say_what_is_wrong() {
        let config = RunConfig::default();
        let error = with_assignments(&config, &["colour = 3".to_owned()]).unwrap_err();
        assert!(matches!(&error, AssignmentError::UnknownKey { key } if key == "colour"), "{error}");
        let error = with_assignments(&config, &["network.colour = 3".to_owned()]).unwrap_err();
        assert!(matches!(&error, AssignmentError::UnknownKey { key } if key == "network.colour"), "{error}");
        let error = with_assignments(&config, &["[network]".to_owned()]).unwrap_err();
        assert!(matches!(error, AssignmentError::SetsNothing { .. }), "{error}");
        let error = with_assignments(&config, &["activation leaky".to_owned()]).unwrap_err();
        assert!(matches!(error, AssignmentError::Syntax { .. }), "{error}");
        let error = with_assignments(&config, &["learning_rate = 1000".to_owned()]).unwrap_err();
        assert!(error.to_string().contains("training.learning_rate"), "{error}");
    }

    #[test]
    fn the_commands_between_two_configs_turn_one_into_the_other() {
        let from = preset("high-learning-rate");
        let mut to = from.clone();
        to.network.activation = ActivationKind::Elu;
        to.network.activation_parameter = Some(0.5);
        to.network.bias_offset = -1.0;
        to.training.learning_rate = 0.1;
        to.training.batch_size = 20;
        to.training.clip_gradient_norm = Some(5.0);
        to.network.init = Init::Rai;
        to.data.noise = 0.2;
        to.data.points = 300;
        let commands = commands_between(&from, &to);
        assert_eq!(commands.iter().filter(|c| matches!(c, SessionCommand::SetData { .. })).count(), 1);
        let mut session = Session::new(from.clone()).unwrap();
        for command in commands {
            session.apply(command).unwrap();
        }
        let mut reached = session.config().clone();
        reached.description.clone_from(&to.description);
        assert_eq!(reached, to);
        assert!(commands_between(&from, &from).is_empty());
    }

    #[test]
    fn the_inverse_of_a_change_sets_it_back() {
        let from = preset("high-learning-rate");
        let mut session = Session::new(from.clone()).unwrap();
        for command in [
            SessionCommand::SetLearningRate { learning_rate: 0.5 },
            SessionCommand::SetActivation { activation: Activation::Elu { alpha: 0.5 } },
            SessionCommand::SetBatchSize { batch_size: 5 },
        ] {
            let inverse = Setting::inverse(&command, session.config()).unwrap();
            session.apply(command).unwrap();
            session.apply(inverse).unwrap();
        }
        assert!(commands_between(session.config(), &from).is_empty());
        assert_eq!(Setting::inverse(&SessionCommand::SetInit { init: Init::Rai }, &from), None);
    }
}
