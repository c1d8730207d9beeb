//! The run record: everything needed to reproduce a run, a comparison or the seeds view, as
//! plain data. A record holds one [`LaneRecord`] per seed: start from its `config` (and
//! `initial_network`, when the run did not start from the seed's weights), apply each command
//! before the step it is stamped with, make `steps` steps; the parameters then hash to
//! `parameter_digest`. A lane that was compared says where its branch B split off and holds
//! B's own record. The ensemble builds a record on demand; the replay cursor
//! (`super::replay`) plays one back.
//!
//! A record is checked as a whole: `record_digest` hashes every field but itself, so an edit
//! anywhere (a command, a fork's `b_restarted`, a lane's seed) is caught before anything is
//! replayed, and a record without one is refused unless the caller accepts it unchecked.

use serde::{Deserialize, Serialize};

use super::command::{Divergence, StampedCommand};
use super::config::{ConfigError, RunConfig};
use super::export::{NetworkFileError, NetworkWeights};
use crate::nn::{Dense, Mlp};

/// The record format written by this version: format 4 holds lanes (seeds) and a digest of the
/// whole record; format 3 added comparisons; format 2 the digest of the weights.
pub const RECORD_FORMAT: u32 = 4;
/// The oldest record format this version reads (format 1 had no initial network, report
/// interval or digest).
pub const OLDEST_RECORD_FORMAT: u32 = 1;
/// The first format that may hold a comparison.
const FIRST_FORK_FORMAT: u32 = 3;
/// The most lanes a record may hold (the seeds view runs at most this many).
pub const MAX_LANES: usize = 64;

/// A record file: one lane per seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// The record format's version.
    pub format: u32,
    /// Where the record was made, as [`platform`] names it ("x86_64-linux", "wasm32").
    #[serde(default)]
    pub made_on: Option<String>,
    /// The reporting interval the run was printed with (`run --every`), if any.
    #[serde(default)]
    pub report_every: Option<u64>,
    /// One per seed, in the order the seeds view shows them.
    pub lanes: Vec<LaneRecord>,
    /// A hash of every other field (see [`RunRecord::content_digest`]).
    #[serde(default)]
    pub record_digest: Option<String>,
}

/// One seed's run, as it can be replayed; with a comparison, where B split off and B's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneRecord {
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
    pub b: Box<LaneRecord>,
}

/// A record of formats 1 to 3: one run, perhaps with a fork.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OldRecord {
    format: u32,
    config: RunConfig,
    #[serde(default)]
    initial_network: Option<NetworkWeights>,
    commands: Vec<StampedCommand>,
    steps: u64,
    #[serde(default)]
    report_every: Option<u64>,
    #[serde(default)]
    divergence: Option<Divergence>,
    #[serde(default)]
    parameter_digest: Option<String>,
    #[serde(default)]
    fork: Option<ForkRecord>,
}

/// Just the format, to choose the parser.
#[derive(Deserialize)]
struct FormatOnly {
    format: u32,
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
    /// A comparison in a format older than comparisons.
    #[error("a format {0} record cannot hold a comparison (comparisons came with format {FIRST_FORK_FORMAT})")]
    ForkInOldFormat(u32),
    /// No lanes, or too many.
    #[error("a record holds from 1 to {MAX_LANES} lanes; this one holds {0}")]
    LaneCount(usize),
    /// The record's config is invalid.
    #[error("{lane}the config is invalid: {error}")]
    Config {
        /// Which lane, for a message ("seed 3: ").
        lane: String,
        /// Why.
        error: ConfigError,
    },
    /// The record's initial network does not fit its config.
    #[error("{lane}the initial network is invalid: {error}")]
    InitialNetwork {
        /// Which lane, for a message.
        lane: String,
        /// Why.
        error: NetworkFileError,
    },
    /// A command is stamped before the one listed above it.
    #[error("{lane}{}: command {number} is stamped at step {step}, before the command above it (step {previous}); commands must be in step order", line_text(*.line))]
    OutOfOrder {
        /// Which lane, for a message.
        lane: String,
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
    #[error("{lane}{}: command {number} is stamped at step {step}, after the run's last step ({steps})", line_text(*.line))]
    PastTheEnd {
        /// Which lane, for a message.
        lane: String,
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
    #[error("{lane}{}: command {number} starts a new network, which a record cannot hold", line_text(*.line))]
    StartsNewNetwork {
        /// Which lane, for a message.
        lane: String,
        /// The command's place in the list, from 1.
        number: usize,
        /// Its line in the file, if known.
        line: Option<usize>,
    },
    /// A reporting interval of 0.
    #[error("report_every must be at least 1")]
    ReportEvery,
    /// The fork does not fit the run it splits off.
    #[error("{lane}the comparison's fork is inconsistent: {reason}")]
    Fork {
        /// Which lane, for a message.
        lane: String,
        /// What is wrong.
        reason: String,
    },
}

fn line_text(line: Option<usize>) -> String {
    line.map_or_else(|| "in the commands".to_owned(), |line| format!("line {line}"))
}

/// Whether a record is as it was saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    /// Its digest matches its content.
    Intact,
    /// Its content differs from what its digest says: it was edited after it was saved.
    Edited {
        /// The digest it holds.
        recorded: String,
        /// The digest of its content.
        computed: String,
    },
    /// It holds no digest of its content (removed, or made by an older version).
    Unchecked {
        /// Why, in words.
        reason: String,
    },
}

impl Integrity {
    /// A sentence for the user.
    pub fn describe(&self) -> String {
        match self {
            Self::Intact => "the record is as it was saved (its content digest matches)".to_owned(),
            Self::Edited { recorded, computed } => format!(
                "the record was changed after it was saved: its content hashes to {computed}, not to the {recorded} \
                 it holds"
            ),
            Self::Unchecked { reason } => reason.clone(),
        }
    }
}

/// The platform this build runs on, as records name it: the CPU family and the system
/// ("x86_64-linux", "aarch64-macos", "wasm32").
pub fn platform() -> String {
    if cfg!(target_arch = "wasm32") {
        return "wasm32".to_owned();
    }
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

impl RunRecord {
    /// A record of `lanes`, made here, with its content digest.
    pub fn of_lanes(lanes: Vec<LaneRecord>, report_every: Option<u64>) -> Self {
        let mut record =
            Self { format: RECORD_FORMAT, made_on: Some(platform()), report_every, lanes, record_digest: None };
        record.seal();
        record
    }

    /// A record of one run.
    pub fn single(lane: LaneRecord, report_every: Option<u64>) -> Self {
        Self::of_lanes(vec![lane], report_every)
    }

    /// Sets the content digest to this record's content (after a change made on purpose, such
    /// as a new reporting interval).
    pub fn seal(&mut self) {
        self.record_digest = Some(self.content_digest());
    }

    /// The first lane (the run, outside the seeds view).
    pub fn first(&self) -> Option<&LaneRecord> {
        self.lanes.first()
    }

    /// Whether any lane holds a comparison.
    pub fn is_comparison(&self) -> bool {
        self.lanes.iter().any(|lane| lane.fork.is_some())
    }

    /// The steps of the longest lane.
    pub fn steps(&self) -> u64 {
        self.lanes.iter().map(|lane| lane.steps).max().unwrap_or(0)
    }

    /// This record as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// Parses a record from JSON (any supported format; a leading byte-order mark is skipped)
    /// and checks its structure: its configs, its initial networks, its commands in step order
    /// within each run (an error names the command's line), its forks. Whether it was edited
    /// is [`RunRecord::integrity`]'s to say.
    pub fn from_json(text: &str) -> Result<Self, RecordError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let FormatOnly { format } =
            serde_json::from_str(text).map_err(|error| RecordError::Parse(error.to_string()))?;
        let record = if format >= RECORD_FORMAT {
            if format > RECORD_FORMAT {
                return Err(RecordError::Format(format));
            }
            serde_json::from_str::<Self>(text).map_err(|error| RecordError::Parse(error.to_string()))?
        } else {
            Self::from_old(serde_json::from_str(text).map_err(|error| RecordError::Parse(error.to_string()))?)?
        };
        record.check(|index| command_line(text, index))?;
        Ok(record)
    }

    /// A record of formats 1 to 3 as one lane (with no content digest: its integrity is
    /// unchecked).
    fn from_old(old: OldRecord) -> Result<Self, RecordError> {
        if !(OLDEST_RECORD_FORMAT..RECORD_FORMAT).contains(&old.format) {
            return Err(RecordError::Format(old.format));
        }
        if old.fork.is_some() && old.format < FIRST_FORK_FORMAT {
            return Err(RecordError::ForkInOldFormat(old.format));
        }
        let lane = LaneRecord {
            config: old.config,
            initial_network: old.initial_network,
            commands: old.commands,
            steps: old.steps,
            divergence: old.divergence,
            parameter_digest: old.parameter_digest,
            fork: old.fork,
        };
        Ok(Self {
            format: old.format,
            made_on: None,
            report_every: old.report_every,
            lanes: vec![lane],
            record_digest: None,
        })
    }

    /// Checks everything a replay relies on. `line_of` gives the file line of the first lane's
    /// command `index`; it is asked only for an error, so a long record is checked in linear
    /// time.
    fn check(&self, line_of: impl Fn(usize) -> Option<usize>) -> Result<(), RecordError> {
        if self.lanes.is_empty() || self.lanes.len() > MAX_LANES {
            return Err(RecordError::LaneCount(self.lanes.len()));
        }
        if self.report_every == Some(0) {
            return Err(RecordError::ReportEvery);
        }
        let is_single = self.lanes.len() == 1;
        for (index, lane) in self.lanes.iter().enumerate() {
            let name = if is_single { String::new() } else { format!("seed {}: ", lane.config.seed) };
            // Line numbers are those of the first lane's commands (the only lane of most files).
            lane.check(&name, |number| if index == 0 { line_of(number) } else { None })?;
        }
        Ok(())
    }

    /// Whether the record is as it was saved: its content digest against its content.
    pub fn integrity(&self) -> Integrity {
        match &self.record_digest {
            Some(recorded) => {
                let computed = self.content_digest();
                if &computed == recorded {
                    Integrity::Intact
                } else {
                    Integrity::Edited { recorded: recorded.clone(), computed }
                }
            }
            None if self.format < RECORD_FORMAT
                && !self.is_comparison()
                && self.lanes.iter().all(|l| l.parameter_digest.is_some()) =>
            {
                // Formats 2 and 3 of one run: the digest of the final weights checks the result.
                Integrity::Intact
            }
            None if self.format < RECORD_FORMAT => Integrity::Unchecked {
                reason: format!(
                    "this format {} record was made by an older version and holds no digest of {}",
                    self.format,
                    if self.is_comparison() { "its comparison" } else { "its final weights" }
                ),
            },
            None => Integrity::Unchecked { reason: "the record holds no digest of its content".to_owned() },
        }
    }

    /// A hash of every field but `record_digest`: FNV-1a over the record's compact JSON.
    pub fn content_digest(&self) -> String {
        let content = Self { record_digest: None, ..self.clone() };
        let json = serde_json::to_string(&content).unwrap_or_default();
        format!("fnv1a64:{:016x}", fnv1a(json.bytes()))
    }
}

impl LaneRecord {
    /// A record of a run from `config` (and `initial_network`) with no steps yet.
    pub fn new(config: RunConfig, initial_network: Option<NetworkWeights>) -> Self {
        Self {
            config,
            initial_network,
            commands: Vec::new(),
            steps: 0,
            divergence: None,
            parameter_digest: None,
            fork: None,
        }
    }

    /// Checks this lane; `line_of` gives the file line of command `index`, asked only for an
    /// error; `lane` names the lane in messages.
    fn check(&self, lane: &str, line_of: impl Fn(usize) -> Option<usize>) -> Result<(), RecordError> {
        let lane_name = || lane.to_owned();
        self.config.validate().map_err(|error| RecordError::Config { lane: lane_name(), error })?;
        if let Some(network) = &self.initial_network {
            network.to_mlp(&self.config).map_err(|error| RecordError::InitialNetwork { lane: lane_name(), error })?;
        }
        let mut previous = 0;
        for (index, stamped) in self.commands.iter().enumerate() {
            let number = index + 1;
            if stamped.command.resets_network() {
                return Err(RecordError::StartsNewNetwork { lane: lane_name(), number, line: line_of(index) });
            }
            if stamped.step < previous {
                let (step, line) = (stamped.step, line_of(index));
                return Err(RecordError::OutOfOrder { lane: lane_name(), number, line, step, previous });
            }
            if stamped.step > self.steps {
                let (step, steps, line) = (stamped.step, self.steps, line_of(index));
                return Err(RecordError::PastTheEnd { lane: lane_name(), number, line, step, steps });
            }
            previous = stamped.step;
        }
        if let Some(fork) = &self.fork {
            self.check_fork(fork).map_err(|reason| RecordError::Fork { lane: lane_name(), reason })?;
        }
        Ok(())
    }

    /// Checks that `fork` splits off this run: at one of its steps, after commands stamped no
    /// later, before commands stamped no earlier; and that B's record is valid and, unless B
    /// restarted, starts as this one does.
    fn check_fork(&self, fork: &ForkRecord) -> Result<(), String> {
        if fork.step > self.steps {
            return Err(format!("it is at step {}, after the run's last step ({})", fork.step, self.steps));
        }
        if fork.after_command > self.commands.len() {
            return Err(format!("it follows command {}, but the run has {}", fork.after_command, self.commands.len()));
        }
        let (before, after) = self.commands.split_at(fork.after_command);
        if before.last().is_some_and(|c| c.step > fork.step) || after.first().is_some_and(|c| c.step < fork.step) {
            return Err(format!("the commands around it are not stamped around step {}", fork.step));
        }
        if fork.b.fork.is_some() {
            return Err("branch B holds a fork of its own".to_owned());
        }
        fork.b.check("branch B: ", |_| None).map_err(|error| error.to_string())?;
        if !fork.b_restarted {
            let same_start = fork.b.config == self.config && fork.b.initial_network == self.initial_network;
            if !same_start || fork.b.commands.get(..fork.after_command) != Some(before) {
                return Err("B does not start as A does, though it did not restart".to_owned());
            }
            if fork.b.steps < fork.step {
                return Err(format!("B ends at step {}, before the fork", fork.b.steps));
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
            .map_err(|error| RecordError::InitialNetwork { lane: String::new(), error })
    }
}

/// The line (from 1) of command `index` in a record's JSON text: the line of the `index`-th
/// `"command":` key after the first `"commands"` key. `None` if it cannot be found.
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

/// FNV-1a, 64 bits.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    bytes.into_iter().fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

/// A hash of the bits of every parameter of `mlp` (weights, biases and PReLU slopes, layer by
/// layer): FNV-1a over the little-endian bytes, as 16 hex digits after `fnv1a64:`. The same
/// bits give the same digest on every machine; a single changed bit changes it. Every NaN (a
/// diverged weight) hashes as the one quiet NaN: which NaN an overflow makes is the CPU's
/// choice (x86 sets the sign bit, ARM does not), not the run's.
pub fn parameter_digest(mlp: &Mlp<f32>) -> String {
    // Every NaN hashes alike: machines write different NaN bits for the same overflow.
    let bytes = mlp.layers.iter().flat_map(Dense::tensors).flatten().flat_map(|value| {
        let bits = if value.is_nan() { f32::NAN.to_bits() } else { value.to_bits() };
        bits.to_le_bytes()
    });
    format!("fnv1a64:{:016x}", fnv1a(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::command::SessionCommand;

    fn lane_with(commands: &[(u64, f64)], steps: u64) -> LaneRecord {
        let mut lane = LaneRecord::new(RunConfig::default(), None);
        lane.steps = steps;
        lane.commands = commands
            .iter()
            .map(|&(step, learning_rate)| StampedCommand {
                step,
                command: SessionCommand::SetLearningRate { learning_rate },
            })
            .collect();
        lane
    }

    fn record_with(commands: &[(u64, f64)], steps: u64) -> RunRecord {
        RunRecord::single(lane_with(commands, steps), None)
    }

    #[test]
    fn an_out_of_order_command_is_named_by_its_line() {
        let text = record_with(&[(50, 0.1), (20, 0.2)], 100).to_json();
        let error = RunRecord::from_json(&text).unwrap_err();
        let line = text.lines().position(|line| line.contains("0.2")).unwrap();
        // The "command" key sits a line above or below the rate; either is inside the object.
        let RecordError::OutOfOrder { number: 2, line: Some(reported), step: 20, previous: 50, .. } = error else {
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
    fn any_edit_breaks_the_content_digest_and_a_missing_one_is_unchecked() {
        let record = record_with(&[(50, 0.1)], 100);
        assert_eq!(RunRecord::from_json(&record.to_json()).unwrap().integrity(), Integrity::Intact);
        let edited = record.to_json().replace("0.1", "0.2");
        assert!(matches!(RunRecord::from_json(&edited).unwrap().integrity(), Integrity::Edited { .. }));
        let mut stripped = record.clone();
        stripped.record_digest = None;
        assert!(matches!(RunRecord::from_json(&stripped.to_json()).unwrap().integrity(), Integrity::Unchecked { .. }));
        let with_bom = format!("\u{feff}{}", record.to_json());
        assert_eq!(RunRecord::from_json(&with_bom).unwrap(), record);
    }

    #[test]
    fn old_formats_read_as_one_lane_and_may_not_hold_a_fork_before_format_3() {
        let lane = lane_with(&[], 10);
        let mut old = serde_json::to_value(&lane).unwrap();
        old["format"] = serde_json::json!(2);
        let record = RunRecord::from_json(&old.to_string()).unwrap();
        assert_eq!(record.lanes, vec![lane.clone()]);
        assert!(matches!(record.integrity(), Integrity::Unchecked { .. }), "no digest of the weights");
        old["fork"] =
            serde_json::to_value(ForkRecord { step: 0, after_command: 0, b_restarted: false, b: Box::new(lane) })
                .unwrap();
        assert_eq!(RunRecord::from_json(&old.to_string()), Err(RecordError::ForkInOldFormat(2)));
        old["format"] = serde_json::json!(3);
        let record = RunRecord::from_json(&old.to_string()).unwrap();
        assert!(matches!(record.integrity(), Integrity::Unchecked { .. }), "an old comparison is not covered");
    }

    #[test]
    fn a_commands_line_is_looked_up_only_for_an_error() {
        // Each lookup scans the text: one per command made a 30,000-command record take over a
        // minute to check.
        let lookups = std::cell::Cell::new(0);
        let count = |_| {
            lookups.set(lookups.get() + 1);
            None
        };
        let commands: Vec<(u64, f64)> = (0..1000).map(|step| (step, 0.01)).collect();
        record_with(&commands, 1000).check(count).unwrap();
        assert_eq!(lookups.get(), 0);
        record_with(&[(50, 0.1), (20, 0.2)], 100).check(count).unwrap_err();
        assert_eq!(lookups.get(), 1);
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
