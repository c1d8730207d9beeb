//! Two runs from one start: a fork splits a run at a step into A and B, identical in every bit
//! (weights, biases, PReLU slopes, optimizer state, batch order, random streams), after which
//! a setting can change on one branch only. Both then train in lockstep on the same batches,
//! so any difference between them comes from the setting.
//!
//! B is a whole session of its own: its record (its start, every command, its digest) replays
//! it alone, and "keep B" simply continues it. The comparison's record is A's record with a
//! [`ForkRecord`] saying where B split off.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::command::{Annotation, SessionCommand};
use super::config::{ConfigError, RunConfig};
use super::record::{ForkRecord, RunRecord};
use super::session::{CommandError, Session, StepOutcome};

/// One branch of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Branch {
    /// The run as it was (the branch the fork was made from).
    A,
    /// The copy that takes the change.
    B,
}

impl Branch {
    /// "A" or "B".
    pub fn letter(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
        }
    }
}

/// Which branch a live change goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Branch A only.
    A,
    /// Branch B only.
    #[default]
    B,
    /// Both branches.
    Both,
}

impl Target {
    /// Whether a change sent to this target reaches `branch`.
    pub fn reaches(self, branch: Branch) -> bool {
        matches!((self, branch), (Self::Both, _) | (Self::A, Branch::A) | (Self::B, Branch::B))
    }

    /// "A", "B" or "both".
    pub fn label(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::Both => "both",
        }
    }
}

/// Where B split off A, and what was done to B there.
#[derive(Clone, Debug, PartialEq)]
pub struct ForkPoint {
    /// A's step at the fork.
    pub step: u64,
    /// How many of A's recorded commands came before the fork.
    pub after_command: usize,
    /// B built a new network at the fork (another init, initial bias, architecture or seed):
    /// its record starts there, at its own step 0.
    pub b_restarted: bool,
    /// What B was given at the fork, in words ("activation ReLU → Leaky ReLU (0.1)").
    pub changes: Vec<String>,
}

impl ForkPoint {
    /// What B is, for a label: "B: activation ReLU → Leaky ReLU (0.1) from step 3000", or
    /// "B: identical to A from step 3000" when nothing was changed at the fork.
    pub fn describe(&self) -> String {
        let what = if self.changes.is_empty() { "identical to A".to_owned() } else { self.changes.join(", ") };
        format!("B: {what} from step {}", self.step)
    }
}

/// A comparison as a snapshot shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ForkInfo {
    /// A's step at the fork.
    pub step: u64,
    /// Steps A made since.
    pub steps_since: u64,
    /// What B is ("B: activation ReLU → Leaky ReLU (0.1) from step 3000").
    pub description: String,
    /// B built a new network at the fork.
    pub b_restarted: bool,
}

/// Branch B of a comparison: its session and where it split off.
#[derive(Clone, Debug)]
pub struct Fork {
    b: Session,
    point: ForkPoint,
    /// Changes to B after the fork, in words (the label keeps the newest few).
    later_changes: Vec<String>,
}

/// Why a fork could not be made or a change could not go to a branch.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ForkError {
    /// A change at the fork was refused.
    #[error("branch B refused a change at the fork: {0}")]
    AtFork(CommandError),
    /// A change to B that builds a new network, after the branches have trained apart.
    #[error(
        "{branch} cannot build a new network {steps} steps after the fork; compare from step 0 instead (Reset \
         while comparing restarts both branches)"
    )]
    RebuildAfterFork {
        /// "B".
        branch: &'static str,
        /// Steps since the fork.
        steps: u64,
    },
    /// A change to A that builds a new network: A keeps the network it was forked from.
    #[error(
        "A keeps the network it was forked from; give a change that builds a new network (init, initial \
         bias, architecture, seed) to B"
    )]
    RebuildA,
    /// The branch refused the command.
    #[error("{branch}: {error}")]
    Command {
        /// "A" or "B".
        branch: &'static str,
        /// Why.
        error: CommandError,
    },
}

impl Fork {
    /// Splits `a` now: B is an exact copy, then takes `changes` (which may build a new
    /// network, as in a comparison from step 0 with another init). Returns B's annotations.
    pub fn new(a: &Session, changes: Vec<SessionCommand>) -> Result<(Self, Vec<Annotation>), ForkError> {
        let mut b = a.clone();
        let mut annotations = Vec::new();
        let mut words = Vec::new();
        for command in changes {
            let annotation = b.apply(command).map_err(ForkError::AtFork)?;
            words.push(annotation.text.clone());
            annotations.push(annotation);
        }
        let point = ForkPoint {
            step: a.step_count(),
            after_command: a.commands().len(),
            b_restarted: b.network_generation() != a.network_generation(),
            changes: words,
        };
        Ok((Self { b, point, later_changes: Vec::new() }, annotations))
    }

    /// Branch B's session.
    pub fn b(&self) -> &Session {
        &self.b
    }

    /// Branch B's session, to step or evaluate.
    pub fn b_mut(&mut self) -> &mut Session {
        &mut self.b
    }

    /// Where B split off.
    pub fn point(&self) -> &ForkPoint {
        &self.point
    }

    /// Steps A made since the fork.
    pub fn steps_since(&self, a: &Session) -> u64 {
        a.step_count().saturating_sub(self.point.step)
    }

    /// B's label: what it was given at the fork and, after it, its latest changes.
    pub fn describe(&self) -> String {
        let mut text = self.point.describe();
        if let Some(last) = self.later_changes.last() {
            let more = self.later_changes.len() - 1;
            let others = if more > 0 { format!(" and {more} more") } else { String::new() };
            let _ = write!(text, "; then {last}{others}");
        }
        text
    }

    /// The comparison as a snapshot shows it, with A at `a`.
    pub fn info(&self, a: &Session) -> ForkInfo {
        ForkInfo {
            step: self.point.step,
            steps_since: self.steps_since(a),
            description: self.describe(),
            b_restarted: self.point.b_restarted,
        }
    }

    /// Applies `command` to B. A command that builds a new network is refused once the
    /// branches have trained apart.
    pub fn apply_to_b(&mut self, a: &Session, command: SessionCommand) -> Result<Annotation, ForkError> {
        let steps = self.steps_since(a);
        if command.resets_network() && steps > 0 {
            return Err(ForkError::RebuildAfterFork { branch: "B", steps });
        }
        let generation = self.b.network_generation();
        let annotation =
            self.b.apply(command).map_err(|error| ForkError::Command { branch: Branch::B.letter(), error })?;
        if self.b.network_generation() != generation {
            self.point.b_restarted = true;
            self.point.changes.push(annotation.text.clone());
        } else if steps == 0 {
            self.point.changes.push(annotation.text.clone());
        } else {
            self.later_changes.push(annotation.text.clone());
        }
        Ok(annotation)
    }

    /// The comparison's record: A's record, with B's (its whole record) and the fork point.
    pub fn record(&self, a: &Session) -> RunRecord {
        let mut record = a.record();
        record.fork = Some(ForkRecord {
            step: self.point.step,
            after_command: self.point.after_command,
            b_restarted: self.point.b_restarted,
            b: Box::new(self.b.record()),
        });
        record
    }

    /// Ends the comparison keeping B: its session goes on as the run.
    pub fn into_b(self) -> Session {
        self.b
    }

    /// A fork rebuilt from a replayed record: `b` at the fork's point.
    pub(super) fn from_parts(b: Session, point: ForkPoint) -> Self {
        Self { b, point, later_changes: Vec::new() }
    }
}

/// A and B together, stepped in lockstep: the headless comparison (`relu-lab compare`) and the
/// tests use it; the app's trainer holds the same two parts.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Branch A.
    pub a: Session,
    /// Branch B and the fork point.
    pub fork: Fork,
}

impl Comparison {
    /// Forks `a` now, giving B `changes`.
    pub fn fork(a: Session, changes: Vec<SessionCommand>) -> Result<Self, ForkError> {
        let (fork, _) = Fork::new(&a, changes)?;
        Ok(Self { a, fork })
    }

    /// One step of each branch that has not diverged, on the same batch.
    pub fn step(&mut self) -> (StepOutcome, StepOutcome) {
        (self.a.step(), self.fork.b.step())
    }

    /// Applies `command` to the branches `target` names, A first. A command that builds a
    /// new network is refused on A, and on B after the branches have trained apart.
    pub fn apply(&mut self, target: Target, command: &SessionCommand) -> Result<Vec<(Branch, Annotation)>, ForkError> {
        let mut annotations = Vec::new();
        if target.reaches(Branch::A) {
            if command.resets_network() {
                return Err(ForkError::RebuildA);
            }
            let annotation = self
                .a
                .apply(command.clone())
                .map_err(|error| ForkError::Command { branch: Branch::A.letter(), error })?;
            annotations.push((Branch::A, annotation));
        }
        if target.reaches(Branch::B) {
            annotations.push((Branch::B, self.fork.apply_to_b(&self.a, command.clone())?));
        }
        Ok(annotations)
    }

    /// The comparison's record.
    pub fn record(&self) -> RunRecord {
        self.fork.record(&self.a)
    }

    /// The session of `branch`.
    pub fn session(&self, branch: Branch) -> &Session {
        match branch {
            Branch::A => &self.a,
            Branch::B => &self.fork.b,
        }
    }

    /// The session of `branch`, to step or evaluate.
    pub fn session_mut(&mut self, branch: Branch) -> &mut Session {
        match branch {
            Branch::A => &mut self.a,
            Branch::B => &mut self.fork.b,
        }
    }
}

/// The commands that turn a run on `from` into a run on `to`: those that build a new network
/// first (seed, architecture, init, initial bias), then the data, then the live settings.
/// Applied to a session on `from`, its settings become `to`'s (the description aside).
pub fn commands_between(from: &RunConfig, to: &RunConfig) -> Vec<SessionCommand> {
    let (fnet, tnet) = (&from.network, &to.network);
    let (ftr, ttr) = (&from.training, &to.training);
    let mut commands = Vec::new();
    if from.seed != to.seed {
        commands.push(SessionCommand::Reset { seed: Some(to.seed) });
    }
    if fnet.hidden_layers != tnet.hidden_layers {
        commands.push(SessionCommand::SetArchitecture { hidden_layers: tnet.hidden_layers.clone() });
    }
    if fnet.init != tnet.init {
        commands.push(SessionCommand::SetInit { init: tnet.init });
    }
    if fnet.initial_bias != tnet.initial_bias {
        commands.push(SessionCommand::SetInitialBias { initial_bias: tnet.initial_bias });
    }
    if from.data != to.data {
        commands.push(SessionCommand::SetData { data: to.data });
    }
    if fnet.activation() != tnet.activation() {
        commands.push(SessionCommand::SetActivation { activation: tnet.activation() });
    }
    if fnet.bias_offset != tnet.bias_offset {
        commands.push(SessionCommand::SetBiasOffset { bias_offset: tnet.bias_offset });
    }
    if ftr.optimizer_kind() != ttr.optimizer_kind() {
        commands.push(SessionCommand::SetOptimizer { optimizer: ttr.optimizer_kind() });
    }
    if ftr.learning_rate != ttr.learning_rate {
        commands.push(SessionCommand::SetLearningRate { learning_rate: ttr.learning_rate });
    }
    if ftr.decay != ttr.decay {
        commands.push(SessionCommand::SetDecay { decay: ttr.decay });
    }
    if ftr.batch_size != ttr.batch_size {
        commands.push(SessionCommand::SetBatchSize { batch_size: ttr.batch_size });
    }
    if ftr.clip_gradient_norm != ttr.clip_gradient_norm {
        commands.push(SessionCommand::SetGradientClipping { max_norm: ttr.clip_gradient_norm });
    }
    commands
}

/// Each config section and its fields, for short keys (`activation`, `learning_rate`).
const SECTIONS: [(&str, &[&str]); 3] = [
    ("network", &["hidden_layers", "activation", "activation_parameter", "init", "initial_bias", "bias_offset"]),
    ("training", &["optimizer", "momentum", "learning_rate", "decay", "batch_size", "clip_gradient_norm"]),
    ("data", &["dataset", "points", "noise", "train_fraction", "standardize"]),
];

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
    /// A key that no config section has.
    #[error("'{key}' is not a config setting (see a config file from `relu-lab presets`, e.g. network.activation)")]
    UnknownKey {
        /// The key given.
        key: String,
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

/// `config` with each `key = value` assignment applied, in order. Keys are the config file's
/// (`network.activation`, `training.learning_rate`, `seed`) or, for a key only one section
/// has, its short name (`activation`, `learning_rate`, `init`).
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
    if given.is_empty() {
        return Err(syntax("no key was given".to_owned()));
    }
    for (key, value) in given {
        let section = SECTIONS.iter().find(|(_, fields)| fields.contains(&key.as_str())).map(|(name, _)| *name);
        if let Some(section) = section {
            // A short key: into its section (the table has one for each).
            if let Some(fields) = table.get_mut(section).and_then(toml::Value::as_table_mut) {
                fields.insert(key, value);
            }
        } else {
            // A top-level key or a dotted one; an unknown field in a section is named by the
            // config's own check.
            if !(key == "seed" || key == "description" || SECTIONS.iter().any(|(name, _)| *name == key)) {
                return Err(AssignmentError::UnknownKey { key });
            }
            merge(&mut table, key, value);
        }
    }
    let text = toml::to_string(&table).map_err(|error| syntax(error.to_string()))?;
    RunConfig::from_toml_str(&text)
        .map_err(|error| AssignmentError::Invalid { assignment: assignment.to_owned(), error })
}

/// Puts `value` at `key`, merging tables field by field (so `network.init = "rai"` keeps the
/// other network fields).
fn merge(table: &mut toml::Table, key: String, value: toml::Value) {
    match (table.get_mut(&key), value) {
        (Some(toml::Value::Table(existing)), toml::Value::Table(fields)) => {
            for (field, value) in fields {
                merge(existing, field, value);
            }
        }
        (_, value) => {
            table.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, ActivationKind, Init};
    use crate::train::presets;

    fn preset(name: &str) -> RunConfig {
        presets::find(name).unwrap().config().unwrap()
    }

    #[test]
    fn short_and_dotted_keys_set_the_config() {
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
        // A field the config leaves out (no parameter means the default one) can still be set.
        let b = with_assignments(
            &config,
            &["activation = \"leaky-relu\"".to_owned(), "activation_parameter = 0.1".to_owned()],
        )
        .unwrap();
        assert_eq!(b.network.activation(), Activation::LeakyRelu { slope: 0.1 });
        let error = with_assignments(&config, &["network.colour = 3".to_owned()]).unwrap_err();
        assert!(matches!(error, AssignmentError::Invalid { .. }), "{error}");
    }

    #[test]
    fn bad_assignments_say_what_is_wrong() {
        let config = RunConfig::default();
        let error = with_assignments(&config, &["colour = 3".to_owned()]).unwrap_err();
        assert!(matches!(&error, AssignmentError::UnknownKey { key } if key == "colour"), "{error}");
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
        let mut session = Session::new(from.clone()).unwrap();
        for command in commands_between(&from, &to) {
            session.apply(command).unwrap();
        }
        let mut reached = session.config().clone();
        reached.description.clone_from(&to.description);
        assert_eq!(reached, to);
        assert!(commands_between(&from, &from).is_empty());
    }

    #[test]
    fn a_fork_with_no_change_stays_bit_identical() {
        let mut a = Session::new(preset("high-learning-rate")).unwrap();
        for _ in 0..300 {
            a.step();
        }
        let mut comparison = Comparison::fork(a, Vec::new()).unwrap();
        for _ in 0..1000 {
            comparison.step();
        }
        assert_eq!(comparison.a.network(), comparison.fork.b().network());
        assert_eq!(comparison.a.evaluate(), comparison.fork.b_mut().evaluate());
        assert_eq!(comparison.fork.point().describe(), "B: identical to A from step 300");
    }

    #[test]
    fn b_differs_from_a_only_through_its_change() {
        let config = preset("high-learning-rate");
        let leaky = SessionCommand::SetActivation { activation: Activation::LeakyRelu { slope: 0.1 } };
        let mut a = Session::new(config.clone()).unwrap();
        let mut switched_alone = Session::new(config).unwrap();
        for _ in 0..500 {
            a.step();
            switched_alone.step();
        }
        switched_alone.apply(leaky.clone()).unwrap();
        let mut comparison = Comparison::fork(a, vec![leaky]).unwrap();
        for _ in 0..700 {
            comparison.step();
            switched_alone.step();
        }
        assert_eq!(comparison.fork.b().network(), switched_alone.network(), "B is the run that switched at 500");
        assert_ne!(comparison.a.network(), comparison.fork.b().network());
        assert!(comparison.fork.point().describe().starts_with("B: activation ReLU → Leaky ReLU"));
    }

    #[test]
    fn a_branch_cannot_rebuild_its_network_after_training_apart() {
        let mut comparison = Comparison::fork(Session::new(RunConfig::default()).unwrap(), Vec::new()).unwrap();
        // At the fork B may still rebuild (a comparison from step 0 with another init).
        comparison.apply(Target::B, &SessionCommand::SetInit { init: Init::Rai }).unwrap();
        assert!(comparison.fork.point().b_restarted);
        comparison.step();
        let error = comparison.apply(Target::B, &SessionCommand::SetInit { init: Init::HeNormal }).unwrap_err();
        assert!(matches!(error, ForkError::RebuildAfterFork { branch: "B", steps: 1 }), "{error}");
        let error = comparison.apply(Target::Both, &SessionCommand::Reset { seed: None }).unwrap_err();
        assert_eq!(error, ForkError::RebuildA);
    }
}
