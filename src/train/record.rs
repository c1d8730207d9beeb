//! The replayable run record: a config plus the commands it received, each stamped with the
//! step at which it was applied.

use serde::{Deserialize, Serialize};

use super::command::StampedCommand;
use super::config::RunConfig;
use super::session::{CommandError, Session, StepOutcome};

/// A run, as it can be replayed: start from `config`, apply each command before the step it is
/// stamped with, and make `steps` steps in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// The record format's version.
    pub format: u32,
    /// The config the run started from.
    pub config: RunConfig,
    /// Commands in the order they were applied.
    pub commands: Vec<StampedCommand>,
    /// Steps made in all.
    pub steps: u64,
    /// Where the run diverged, if it ended diverged (so a replay tries that step too).
    #[serde(default)]
    pub divergence: Option<super::command::Divergence>,
}

/// The record format written by this version.
pub const RECORD_FORMAT: u32 = 1;

impl RunRecord {
    /// An empty record starting from `config`.
    pub fn new(config: RunConfig) -> Self {
        Self { format: RECORD_FORMAT, config, commands: Vec::new(), steps: 0, divergence: None }
    }

    /// This record as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
    }

    /// Parses a record from JSON, checking its config.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let record: Self = serde_json::from_str(text).map_err(|error| format!("not a run record: {error}"))?;
        if record.format != RECORD_FORMAT {
            return Err(format!(
                "run record format {} is not supported (this version reads {RECORD_FORMAT})",
                record.format
            ));
        }
        record.config.validate().map_err(|error| format!("the record's config is invalid: {error}"))?;
        Ok(record)
    }
}

/// Why a replay could not run to its end.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ReplayError<E> {
    /// The record's config does not build a session.
    #[error("the record's config is invalid: {0}")]
    Config(super::config::ConfigError),
    /// A recorded command was refused: the record does not match this version.
    #[error("step {step}: recorded command refused: {error}")]
    Command {
        /// The command's stamp.
        step: u64,
        /// Why it was refused.
        error: CommandError,
    },
    /// The caller's per-step callback failed.
    #[error(transparent)]
    Callback(E),
}

impl RunRecord {
    /// Replays this record headless: applies every command before the step it is stamped
    /// with, makes `steps` steps (stopping early if the run diverges, as the live run did)
    /// and calls `after_step` after each. Returns the session at the end.
    pub fn replay<E>(
        &self,
        mut after_step: impl FnMut(&mut Session) -> Result<(), E>,
    ) -> Result<Session, ReplayError<E>> {
        let mut session = Session::new(self.config.clone()).map_err(ReplayError::Config)?;
        let mut pending = self.commands.iter().peekable();
        loop {
            while let Some(stamped) = pending.next_if(|stamped| stamped.step <= session.step_count()) {
                session
                    .apply(stamped.command.clone())
                    .map_err(|error| ReplayError::Command { step: stamped.step, error })?;
            }
            let is_done = session.step_count() >= self.steps;
            if is_done && (self.divergence.is_none() || session.divergence().is_some()) {
                return Ok(session);
            }
            let outcome = session.step();
            after_step(&mut session).map_err(ReplayError::Callback)?;
            if let StepOutcome::Diverged(_) = outcome
                && pending.peek().is_none_or(|next| next.step > session.step_count())
            {
                return Ok(session);
            }
        }
    }
}
