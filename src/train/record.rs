//! The run record: everything needed to reproduce a run, as plain data. Start from `config`
//! (and `initial_network`, when the run did not start from the seed's weights), apply each
//! command before the step it is stamped with, make `steps` steps; the parameters then hash to
//! `parameter_digest`. The session builds a record on demand (`Session::record`); the replay
//! cursor (`super::replay`) plays one back.

use serde::{Deserialize, Serialize};

use super::command::{Divergence, StampedCommand};
use super::config::{ConfigError, RunConfig};
use super::export::{NetworkFileError, NetworkWeights};
use crate::nn::{Dense, Mlp};

/// The record format written by this version (format 3 added comparisons: [`ForkRecord`]).
pub const RECORD_FORMAT: u32 = 3;
/// The oldest record format this version reads (format 1 had no initial network, report
/// interval or digest).
pub const OLDEST_RECORD_FORMAT: u32 = 1;

/// A run, as it can be replayed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// The record format's version.
    pub format: u32,
    /// The config the run started from.
    pub config: RunConfig,
    /// The weights the run started from, when they did not come from the seed (a loaded
    /// network). Absent: the seed draws them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_network: Option<NetworkWeights>,
    /// Commands in the order they were applied.
    pub commands: Vec<StampedCommand>,
    /// Steps made in all.
    pub steps: u64,
    /// The reporting interval the run was printed with (`run --every`), if any.
    #[serde(default)]
    pub report_every: Option<u64>,
    /// Where the run diverged, if it ended diverged (so a replay tries that step too).
    #[serde(default)]
    pub divergence: Option<Divergence>,
    /// A hash of the bits of every parameter at the end (see [`parameter_digest`]).
    #[serde(default)]
    pub parameter_digest: Option<String>,
    /// For a comparison: where branch B split off this run (branch A), and B's own record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<ForkRecord>,
}

/// Branch B of a comparison: it split off the run at `step`, after the run's first
/// `after_command` commands, as an exact copy; from there its own record says what it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForkRecord {
    /// A's step at the fork.
    pub step: u64,
    /// How many of A's commands were applied before the fork.
    pub after_command: usize,
    /// B built a new network at the fork: its record starts there (its own step 0). Otherwise
    /// its record starts where A's does and holds A's first `after_command` commands.
    pub b_restarted: bool,
    /// B's whole record.
    pub b: Box<RunRecord>,
}

/// Why a record could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// The text is not a record (JSON syntax, unknown fields, wrong types).
    #[error("not a run record: {0}")]
    Parse(String),
    /// A format this version does not read.
    #[error("run record format {0} is not supported (this version reads {OLDEST_RECORD_FORMAT} to {RECORD_FORMAT})")]
    Format(u32),
    /// The record's config is invalid.
    #[error("the record's config is invalid: {0}")]
    Config(ConfigError),
    /// The record's initial network does not fit its config.
    #[error("the record's initial network is invalid: {0}")]
    InitialNetwork(NetworkFileError),
    /// A command is stamped before the one listed above it.
    #[error("{}: command {number} is stamped at step {step}, before the command above it (step {previous}); commands must be in step order", line_text(*.line))]
    OutOfOrder {
        /// The command's place in the list, from 1.
        number: usize,
        /// Its line in the file, if known.
        line: Option<usize>,
        /// Its stamp.
        step: u64,
        /// The stamp of the command before it.
        previous: u64,
    },
    /// A command is stamped after the run's last step.
    #[error("{}: command {number} is stamped at step {step}, after the run's last step ({steps})", line_text(*.line))]
    PastTheEnd {
        /// The command's place in the list, from 1.
        number: usize,
        /// Its line in the file, if known.
        line: Option<usize>,
        /// Its stamp.
        step: u64,
        /// The record's step count.
        steps: u64,
    },
    /// A command that starts a new network: a record never holds one (a reset starts a new
    /// record).
    #[error("{}: command {number} starts a new network, which a record cannot hold", line_text(*.line))]
    StartsNewNetwork {
        /// The command's place in the list, from 1.
        number: usize,
        /// Its line in the file, if known.
        line: Option<usize>,
    },
    /// A reporting interval of 0.
    #[error("report_every must be at least 1")]
    ReportEvery,
    /// The fork does not fit the run it splits off.
    #[error("the comparison's fork is inconsistent: {0}")]
    Fork(String),
    /// Branch B's own record is invalid.
    #[error("branch B: {0}")]
    BranchB(Box<RecordError>),
}

fn line_text(line: Option<usize>) -> String {
    line.map_or_else(|| "in the commands".to_owned(), |line| format!("line {line}"))
}

impl RunRecord {
    /// A record of a run of `steps` steps from `config` (and `initial_network`) with `commands`.
    pub fn new(config: RunConfig, initial_network: Option<NetworkWeights>) -> Self {
        Self {
            format: RECORD_FORMAT,
            config,
            initial_network,
            commands: Vec::new(),
            steps: 0,
            report_every: None,
            divergence: None,
            parameter_digest: None,
            fork: None,
        }
    }

    /// This record as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// Parses a record from JSON and checks it: its config, its initial network, and that its
    /// commands are in step order within the run (an error names the command's line).
    pub fn from_json(text: &str) -> Result<Self, RecordError> {
        let record: Self = serde_json::from_str(text).map_err(|error| RecordError::Parse(error.to_string()))?;
        record.check(|index| command_line(text, index))?;
        Ok(record)
    }

    /// Checks everything a replay relies on; `line_of` gives the file line of command `index`.
    fn check(&self, line_of: impl Fn(usize) -> Option<usize>) -> Result<(), RecordError> {
        if !(OLDEST_RECORD_FORMAT..=RECORD_FORMAT).contains(&self.format) {
            return Err(RecordError::Format(self.format));
        }
        self.config.validate().map_err(RecordError::Config)?;
        if let Some(network) = &self.initial_network {
            network.to_mlp(&self.config).map_err(RecordError::InitialNetwork)?;
        }
        if self.report_every == Some(0) {
            return Err(RecordError::ReportEvery);
        }
        let mut previous = 0;
        for (index, stamped) in self.commands.iter().enumerate() {
            let (number, line) = (index + 1, line_of(index));
            if stamped.command.resets_network() {
                return Err(RecordError::StartsNewNetwork { number, line });
            }
            if stamped.step < previous {
                return Err(RecordError::OutOfOrder { number, line, step: stamped.step, previous });
            }
            if stamped.step > self.steps {
                return Err(RecordError::PastTheEnd { number, line, step: stamped.step, steps: self.steps });
            }
            previous = stamped.step;
        }
        if let Some(fork) = &self.fork {
            self.check_fork(fork)?;
        }
        Ok(())
    }

    /// Checks that `fork` splits off this run: at one of its steps, after commands stamped no
    /// later, before commands stamped no earlier; and that B's record is valid and, unless B
    /// restarted, starts as this one does.
    fn check_fork(&self, fork: &ForkRecord) -> Result<(), RecordError> {
        let bad = |reason: String| Err(RecordError::Fork(reason));
        if fork.step > self.steps {
            return bad(format!("it is at step {}, after the run's last step ({})", fork.step, self.steps));
        }
        if fork.after_command > self.commands.len() {
            return bad(format!("it follows command {}, but the run has {}", fork.after_command, self.commands.len()));
        }
        let (before, after) = self.commands.split_at(fork.after_command);
        if before.last().is_some_and(|c| c.step > fork.step) || after.first().is_some_and(|c| c.step < fork.step) {
            return bad(format!("the commands around it are not stamped around step {}", fork.step));
        }
        if fork.b.fork.is_some() {
            return bad("branch B holds a fork of its own".to_owned());
        }
        fork.b.check(|_| None).map_err(|error| RecordError::BranchB(Box::new(error)))?;
        if !fork.b_restarted {
            let same_start = fork.b.config == self.config && fork.b.initial_network == self.initial_network;
            if !same_start || fork.b.commands.get(..fork.after_command) != Some(before) {
                return bad("B does not start as A does, though it did not restart".to_owned());
            }
            if fork.b.steps < fork.step {
                return bad(format!("B ends at step {}, before the fork", fork.b.steps));
            }
        }
        Ok(())
    }

    /// The network the replay starts from, if the record holds one.
    pub fn initial_mlp(&self) -> Result<Option<Mlp<f32>>, RecordError> {
        self.initial_network
            .as_ref()
            .map(|network| network.to_mlp(&self.config))
            .transpose()
            .map_err(RecordError::InitialNetwork)
    }
}

/// The line (from 1) of command `index` in a record's JSON text: the line of the `index`-th
/// `"command":` key after the `"commands"` key. `None` if it cannot be found.
fn command_line(text: &str, index: usize) -> Option<usize> {
    let list_start = text.find("\"commands\"")?;
    let mut from = list_start + "\"commands\"".len();
    let mut found = 0;
    while let Some(offset) = text[from..].find("\"command\"") {
        let key_at = from + offset;
        from = key_at + "\"command\"".len();
        if !text[from..].trim_start().starts_with(':') {
            continue;
        }
        if found == index {
            return Some(text[..key_at].matches('\n').count() + 1);
        }
        found += 1;
    }
    None
}

/// A hash of the bits of every parameter of `mlp` (weights, biases and PReLU slopes, layer by
/// layer): FNV-1a over the little-endian bytes, as 16 hex digits after `fnv1a64:`. The same
/// bits give the same digest on every machine; a single changed bit changes it. Every NaN (a
/// diverged weight) hashes as the one quiet NaN: which NaN an overflow makes is the CPU's
/// choice (x86 sets the sign bit, ARM does not), not the run's.
pub fn parameter_digest(mlp: &Mlp<f32>) -> String {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    for value in mlp.layers.iter().flat_map(Dense::tensors).flatten() {
        let bits = if value.is_nan() { f32::NAN.to_bits() } else { value.to_bits() };
        for byte in bits.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("fnv1a64:{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::command::SessionCommand;

    fn record_with(commands: &[(u64, f64)], steps: u64) -> RunRecord {
        let mut record = RunRecord::new(RunConfig::default(), None);
        record.steps = steps;
        record.commands = commands
            .iter()
            .map(|&(step, learning_rate)| StampedCommand {
                step,
                command: SessionCommand::SetLearningRate { learning_rate },
            })
            .collect();
        record
    }

    #[test]
    fn an_out_of_order_command_is_named_by_its_line() {
        let text = record_with(&[(50, 0.1), (20, 0.2)], 100).to_json();
        let error = RunRecord::from_json(&text).unwrap_err();
        let line = text.lines().position(|line| line.contains("0.2")).unwrap();
        // The "command" key sits a line above or below the rate; either is inside the object.
        let RecordError::OutOfOrder { number: 2, line: Some(reported), step: 20, previous: 50 } = error else {
            panic!("{error:?}")
        };
        assert!(reported.abs_diff(line + 1) <= 2, "{reported} vs {}", line + 1);
        assert!(error.to_string().starts_with(&format!("line {reported}: command 2")), "{error}");
    }

    #[test]
    fn a_command_past_the_last_step_is_refused() {
        let text = record_with(&[(150, 0.1)], 100).to_json();
        assert!(matches!(RunRecord::from_json(&text), Err(RecordError::PastTheEnd { step: 150, steps: 100, .. })));
        assert!(RunRecord::from_json(&record_with(&[(100, 0.1)], 100).to_json()).is_ok());
    }

    #[test]
    fn the_digest_sees_a_single_bit() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut mlp = Mlp::new(&[2, 8, 8, 1], crate::nn::Activation::Relu, crate::nn::Init::HeNormal, 0.0, &mut rng);
        let before = parameter_digest(&mlp);
        assert_eq!(before, parameter_digest(&mlp.clone()));
        let weight = &mut mlp.layers[1].weights[[3, 4]];
        *weight = f32::from_bits(weight.to_bits() ^ 1);
        assert_ne!(before, parameter_digest(&mlp));
    }
}
